package org.xsm.server.transfer;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;
import java.util.UUID;
import java.util.function.LongConsumer;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.plugins.vhd.DiskType;
import org.xsm.plugins.vhd.DynamicHeader;
import org.xsm.plugins.vhd.VhdCreator;
import org.xsm.plugins.vhd.VhdFormatException;

/**
 * A VDI as a stream: raw (every byte, holes sent as zeros without reading them), or a VHD made on
 * the fly holding a chosen set of 2 MiB blocks ({@link DeltaBlocks}): a dynamic disk (footer copy,
 * header, BAT, then each block as a full sector bitmap and its data, then the footer), or with a
 * base a differencing disk as xapi's vhd-tool sends one: the header names the parent by UUID,
 * timestamp and file name, with MACX, W2KU and W2RU locators (512 bytes each, after the BAT), so
 * that the file opens over the base's export as a chain (qemu-img, vhd-lib).
 *
 * <p>Identity: the footer's UUID is the VDI's UUID and its timestamp the VDI's snapshot time (or
 * now, for a VDI that is not a snapshot); a delta names its base by the same rule, so the exports
 * of a VDI's snapshots link up into a chain without any file of the SR being named.
 *
 * <p>The length is known before the first byte is sent (the block set is chosen first), so
 * responses carry a Content-Length. Only one block is in memory at a time.
 */
final class VhdExport {
  private static final int BITMAP_BYTES = 512;
  private static final int LOCATOR_AREA_BYTES = 3 * 512;

  /** Who an image is: its footer UUID and timestamp (seconds since 2000-01-01 UTC). */
  record Identity(UUID uuid, long vhdTimestamp) {}

  /** The parent a differencing export names: its identity and file name. */
  record Parent(Identity identity, String fileName) {}

  private final VdiDevice device;
  private final boolean vhd;
  private final BitSet blocks;
  private final DeltaBlocks.Granules granules;
  private final long sizeBytes;
  private final Identity identity;
  private final Parent parent;

  private VhdExport(
      VdiDevice device,
      boolean vhd,
      BitSet blocks,
      DeltaBlocks.Granules granules,
      Identity identity,
      Parent parentOrNull) {
    this.device = device;
    this.vhd = vhd;
    this.blocks = blocks;
    this.granules = granules;
    this.sizeBytes = device.sizeBytes();
    this.identity = identity;
    this.parent = parentOrNull;
  }

  static VhdExport raw(VdiDevice device) throws SmException {
    return new VhdExport(device, false, DeltaBlocks.allocated(device), null, null, null);
  }

  /**
   * A VHD of {@code blocks} of the device: dynamic, or differencing over {@code parent} if not null
   * (then the blocks not sent read from the parent). With {@code granules} (a differencing export
   * from CBT), a block's sector bitmap marks only its changed granules, and only those are read:
   * the rest of the block is zeros the bitmap leaves to the parent. The stream keeps its length (a
   * VHD block takes its whole size in the file), but its reader and whoever applies or merges it
   * (the import here, vhd-lib) move only the changed granules.
   */
  static VhdExport vhd(
      VdiDevice device,
      BitSet blocks,
      DeltaBlocks.Granules granules,
      Identity identity,
      Parent parent)
      throws TransferException {
    if (device.sizeBytes() < DeltaBlocks.BLOCK_BYTES) {
      throw TransferException.badInput(
          "a VHD export needs a VDI of at least 2 MiB; this one has " + device.sizeBytes());
    }
    return new VhdExport(device, true, blocks, parent == null ? null : granules, identity, parent);
  }

  /** Blocks sent with data (the others are holes, or equal to the base). */
  int blocksWithData() {
    return blocks.cardinality();
  }

  private long batBytes() {
    return (4L * DeltaBlocks.blockCount(sizeBytes) + 511) / 512 * 512;
  }

  private long tableOffset() {
    return DynamicHeader.OFFSET + DynamicHeader.SIZE;
  }

  private long dataStart() {
    return tableOffset() + batBytes() + (parent == null ? 0 : LOCATOR_AREA_BYTES);
  }

  /** Bytes the stream will have. */
  long lengthBytes() {
    if (!vhd) {
      return sizeBytes;
    }
    return dataStart() + (long) blocks.cardinality() * (BITMAP_BYTES + BLOCK_BYTES) + 512;
  }

  private static final int BLOCK_BYTES = DeltaBlocks.BLOCK_BYTES;

  /** Writes the stream; {@code progress} gets the bytes sent so far. */
  void writeTo(OutputStream out, LongConsumer progress) throws IOException, SmException {
    long sent = 0;
    byte[] footer = null;
    if (vhd) {
      footer = footer();
      out.write(footer);
      writeHeaderAndTable(out);
      sent = dataStart();
    }
    byte[] bitmap = new byte[BITMAP_BYTES];
    Arrays.fill(bitmap, (byte) 0xff);
    ByteBuffer buf = ByteBuffer.allocate(BLOCK_BYTES);
    byte[] zeros = new byte[BLOCK_BYTES];
    for (int i = 0; i < DeltaBlocks.blockCount(sizeBytes); i++) {
      long off = (long) i * BLOCK_BYTES;
      int len = (int) Math.min(BLOCK_BYTES, sizeBytes - off);
      if (blocks.get(i)) {
        BitSet part = granules == null ? null : granules.inBlock(i);
        if (part == null || part.cardinality() == granules.perBlock()) {
          buf.clear().limit(len);
          device.read(buf, off);
          if (vhd) {
            out.write(bitmap);
          }
        } else {
          out.write(readGranules(buf, off, len, part));
        }
        if (vhd) {
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

  /**
   * Reads the changed granules of the block at {@code off} into {@code buf} (zeros elsewhere) and
   * returns the block's sector bitmap marking just them.
   */
  private byte[] readGranules(ByteBuffer buf, long off, int len, BitSet part) throws SmException {
    int g = granules.granuleBytes();
    byte[] bitmap = new byte[BITMAP_BYTES];
    Arrays.fill(buf.array(), (byte) 0);
    for (int j = part.nextSetBit(0); j >= 0; j = part.nextSetBit(j + 1)) {
      int end = part.nextClearBit(j);
      int from = j * g;
      int to = Math.min(end * g, len);
      if (from < to) {
        buf.clear().position(from).limit(to);
        device.read(buf, off + from);
      }
      // Sectors [from, end * g) of the block: whole bytes of the bitmap when g >= 4 KiB.
      for (int sector = from / 512; sector < end * g / 512; sector++) {
        bitmap[sector >>> 3] |= (byte) (0x80 >>> (sector & 7));
      }
      j = end;
    }
    return bitmap;
  }

  private void writeHeaderAndTable(OutputStream out) throws IOException {
    int entries = DeltaBlocks.blockCount(sizeBytes);
    byte[] locators = null;
    if (parent == null) {
      out.write(VhdCreator.dynamicHeader(tableOffset(), entries).encode());
    } else {
      VhdCreator.StreamHeader h =
          VhdCreator.differencingStreamHeader(
              tableOffset(),
              entries,
              parent.identity().uuid(),
              parent.identity().vhdTimestamp(),
              parent.fileName(),
              tableOffset() + batBytes());
      out.write(h.header().encode());
      locators = h.locatorArea();
    }
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
    if (locators != null) {
      out.write(locators);
    }
  }

  private byte[] footer() throws IOException {
    try {
      DiskType type = parent == null ? DiskType.DYNAMIC : DiskType.DIFFERENCING;
      return VhdCreator.streamFooter(type, sizeBytes, identity.uuid(), identity.vhdTimestamp())
          .encode();
    } catch (VhdFormatException e) {
      throw new IOException("VDI of " + sizeBytes + " bytes cannot be a VHD: " + e.getMessage(), e);
    }
  }
}
