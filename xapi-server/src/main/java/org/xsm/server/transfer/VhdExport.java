package org.xsm.server.transfer;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;
import java.util.function.LongConsumer;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.plugins.vhd.DynamicHeader;
import org.xsm.plugins.vhd.VhdCreator;
import org.xsm.plugins.vhd.VhdFooter;
import org.xsm.plugins.vhd.VhdFormatException;

/**
 * A VDI as a stream: raw (every byte, holes sent as zeros without reading them), or a dynamic VHD
 * made on the fly (footer copy, header, BAT, then each present 2 MiB block as a full sector bitmap
 * and its data, then the footer) holding the allocated blocks, or with a base only the blocks that
 * differ from it (an incremental backup: applied over a copy of the base, it gives the VDI).
 *
 * <p>The length is known before the first byte is sent (a base is compared first, reading both
 * disks, and only the set of differing blocks is kept), so responses carry a Content-Length. Only
 * one block is in memory at a time.
 */
final class VhdExport {
  static final int BLOCK_BYTES = DynamicHeader.DEFAULT_BLOCK_SIZE;
  private static final int BITMAP_BYTES = 512;

  private final VdiDevice device;
  private final boolean vhd;
  private final BitSet blocks;
  private final long sizeBytes;

  private VhdExport(VdiDevice device, boolean vhd, BitSet blocks) {
    this.device = device;
    this.vhd = vhd;
    this.blocks = blocks;
    this.sizeBytes = device.sizeBytes();
  }

  static VhdExport raw(VdiDevice device) throws SmException {
    return new VhdExport(device, false, allocated(device));
  }

  /** A dynamic VHD of the device, or of its differences from {@code base} if not null. */
  static VhdExport vhd(VdiDevice device, VdiDevice base, LongConsumer progress)
      throws SmException, TransferException {
    if (device.sizeBytes() < BLOCK_BYTES) {
      throw TransferException.badInput(
          "a VHD export needs a VDI of at least 2 MiB; this one has " + device.sizeBytes());
    }
    BitSet b = allocated(device);
    if (base != null) {
      if (base.sizeBytes() != device.sizeBytes()) {
        throw TransferException.badInput(
            "base has "
                + base.sizeBytes()
                + " bytes, the VDI "
                + device.sizeBytes()
                + ": not a snapshot of it");
      }
      b = differing(device, base, b, progress);
    }
    return new VhdExport(device, true, b);
  }

  /** 2 MiB blocks that may hold data, from the device's own allocation granularity. */
  static BitSet allocated(VdiDevice d) throws SmException {
    int g = d.allocationBlockSizeBytes();
    BitSet granules = d.allocatedBlocks();
    BitSet out = new BitSet();
    for (int j = granules.nextSetBit(0); j >= 0; j = granules.nextSetBit(j + 1)) {
      long first = (long) j * g / BLOCK_BYTES;
      long last = ((long) (j + 1) * g - 1) / BLOCK_BYTES;
      out.set((int) first, (int) Math.min(last, blockCount(d.sizeBytes()) - 1) + 1);
    }
    return out;
  }

  static BitSet differing(VdiDevice d, VdiDevice base, BitSet mine, LongConsumer progress)
      throws SmException {
    BitSet candidates = (BitSet) mine.clone();
    candidates.or(allocated(base));
    BitSet out = new BitSet();
    ByteBuffer a = ByteBuffer.allocate(BLOCK_BYTES);
    ByteBuffer b = ByteBuffer.allocate(BLOCK_BYTES);
    long done = 0;
    for (int i = candidates.nextSetBit(0); i >= 0; i = candidates.nextSetBit(i + 1)) {
      long off = (long) i * BLOCK_BYTES;
      int len = (int) Math.min(BLOCK_BYTES, d.sizeBytes() - off);
      a.clear().limit(len);
      b.clear().limit(len);
      d.read(a, off);
      base.read(b, off);
      if (!Arrays.equals(a.array(), 0, len, b.array(), 0, len)) {
        out.set(i);
      }
      progress.accept(++done * BLOCK_BYTES);
    }
    return out;
  }

  static int blockCount(long sizeBytes) {
    return (int) ((sizeBytes + BLOCK_BYTES - 1) / BLOCK_BYTES);
  }

  /** Blocks sent with data (the others are holes, or equal to the base). */
  int blocksWithData() {
    return blocks.cardinality();
  }

  private long batBytes() {
    return (4L * blockCount(sizeBytes) + 511) / 512 * 512;
  }

  private long dataStart() {
    return DynamicHeader.OFFSET + DynamicHeader.SIZE + batBytes();
  }

  /** Bytes the stream will have. */
  long lengthBytes() {
    if (!vhd) {
      return sizeBytes;
    }
    return dataStart() + (long) blocks.cardinality() * (BITMAP_BYTES + BLOCK_BYTES) + 512;
  }

  /** Writes the stream; {@code progress} gets the bytes sent so far. */
  void writeTo(OutputStream out, LongConsumer progress) throws IOException, SmException {
    long sent = 0;
    byte[] footer = null;
    if (vhd) {
      footer = footer();
      out.write(footer);
      int entries = blockCount(sizeBytes);
      out.write(
          VhdCreator.dynamicHeader(DynamicHeader.OFFSET + DynamicHeader.SIZE, entries).encode());
      ByteBuffer bat = ByteBuffer.allocate((int) batBytes());
      long sector = dataStart() / 512;
      for (int i = 0; i < entries; i++) {
        if (blocks.get(i)) {
          bat.putInt((int) sector);
          sector += (BITMAP_BYTES + BLOCK_BYTES) / 512;
        } else {
          bat.putInt(-1);
        }
      }
      while (bat.hasRemaining()) {
        bat.put((byte) 0xff); // padding past the last entry, as unused entries
      }
      out.write(bat.array());
      sent = dataStart();
    }
    byte[] bitmap = new byte[BITMAP_BYTES];
    Arrays.fill(bitmap, (byte) 0xff);
    ByteBuffer buf = ByteBuffer.allocate(BLOCK_BYTES);
    byte[] zeros = new byte[BLOCK_BYTES];
    for (int i = 0; i < blockCount(sizeBytes); i++) {
      long off = (long) i * BLOCK_BYTES;
      int len = (int) Math.min(BLOCK_BYTES, sizeBytes - off);
      if (blocks.get(i)) {
        buf.clear().limit(len);
        device.read(buf, off);
        if (vhd) {
          out.write(bitmap);
          Arrays.fill(buf.array(), len, BLOCK_BYTES, (byte) 0);
          len = BLOCK_BYTES; // VHD blocks are whole, zeros past the disk's end
        }
        out.write(buf.array(), 0, len);
      } else if (!vhd) {
        out.write(zeros, 0, len);
      } else {
        continue;
      }
      sent += len + (vhd ? BITMAP_BYTES : 0);
      progress.accept(sent);
    }
    if (vhd) {
      out.write(footer);
    }
  }

  private byte[] footer() throws IOException {
    try {
      VhdFooter f = VhdCreator.dynamicFooter(sizeBytes);
      return f.encode();
    } catch (VhdFormatException e) {
      throw new IOException("VDI of " + sizeBytes + " bytes cannot be a VHD: " + e.getMessage(), e);
    }
  }
}
