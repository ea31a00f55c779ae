package org.xsm.server.transfer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.function.LongConsumer;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.VhdChain;
import org.xsm.plugins.vhd.VhdFormatException;
import org.xsm.plugins.vhd.VhdImage;

/**
 * An upload into a VDI, in two steps so that bad input changes nothing: the body is first spooled
 * to a local file (sparse: zero runs are not written) and checked whole (exact size for raw; for a
 * VHD, the VHD engine's validation, no parent, the VDI's virtual size); only then is it applied to
 * the VDI through its device. A truncated, oversized or malformed upload therefore fails before the
 * VDI is touched.
 *
 * <p>Applying writes every 2 MiB chunk of a raw image except all-zero chunks over holes (so holes
 * stay holes), and exactly the present blocks of a VHD (so a VHD of differences applied over a copy
 * of its base gives the exported VDI, as xapi's import does).
 *
 * <p>Crash safety: a crash while spooling leaves only the spool file, deleted at the next start;
 * the VDI is unchanged. A crash while applying leaves the VDI partly written: the client's task is
 * gone with the server, the import must be repeated (the spool holds a validated image, and
 * applying it again gives the same result).
 */
final class VdiImport {
  private static final int CHUNK_BYTES = 64 * 1024;
  private static final long VHD_OVERHEAD_BYTES = 64L * 1024 * 1024;

  private VdiImport() {}

  /** Spools a raw image of exactly {@code sizeBytes}. */
  static void spoolRaw(InputStream in, Path file, long sizeBytes, LongConsumer progress)
      throws IOException, TransferException {
    long got = spool(in, file, sizeBytes, progress);
    if (got < sizeBytes) {
      throw TransferException.badInput(
          "truncated upload: got " + got + " of the VDI's " + sizeBytes + " bytes");
    }
  }

  /** Spools a VHD and validates it: whole, parentless, of the VDI's virtual size. */
  static void spoolVhd(InputStream in, Path file, long sizeBytes, LongConsumer progress)
      throws IOException, TransferException {
    long limit = sizeBytes + sizeBytes / 4096 + VHD_OVERHEAD_BYTES;
    spool(in, file, limit, progress);
    LocalImageStore store = LocalImageStore.open(file.getParent());
    try (VhdImage img = VhdImage.open(store, file.getFileName().toString(), false)) {
      if (img.hasParent()) {
        throw TransferException.badInput(
            "the VHD is a differencing disk of "
                + img.header().parentName()
                + "; upload a dynamic or fixed VHD");
      }
      if (img.virtualSizeBytes() != sizeBytes) {
        throw TransferException.badInput(
            "wrong size: the VHD's virtual size is "
                + img.virtualSizeBytes()
                + " bytes, the VDI's "
                + sizeBytes);
      }
    } catch (VhdFormatException e) {
      throw TransferException.badInput(
          "not a valid VHD (truncated or malformed): " + e.getMessage());
    }
  }

  /** Copies the body to {@code file}, refusing more than {@code limit} bytes; returns the count. */
  private static long spool(InputStream in, Path file, long limit, LongConsumer progress)
      throws IOException, TransferException {
    byte[] chunk = new byte[CHUNK_BYTES];
    long pos = 0;
    try (FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE,
            StandardOpenOption.SPARSE)) {
      while (true) {
        int n = in.readNBytes(chunk, 0, CHUNK_BYTES);
        if (n == 0) {
          break;
        }
        if (pos + n > limit) {
          throw TransferException.badInput(
              "upload longer than expected: more than " + limit + " bytes");
        }
        if (!allZero(chunk, n)) {
          ch.write(ByteBuffer.wrap(chunk, 0, n), pos);
        }
        pos += n;
        progress.accept(pos);
        if (n < CHUNK_BYTES) {
          break;
        }
      }
      ch.truncate(pos);
      if (ch.size() < pos) {
        ch.write(ByteBuffer.allocate(1), pos - 1); // a zero tail: the file has its full length
      }
    }
    return pos;
  }

  private static boolean allZero(byte[] b, int n) {
    for (int i = 0; i < n; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Writes a spooled raw image into the device; all-zero chunks over holes are skipped. */
  static void applyRaw(Path file, VdiDevice d, LongConsumer progress)
      throws IOException, SmException {
    int g = d.allocationBlockSizeBytes();
    BitSet allocated = d.allocatedBlocks();
    ByteBuffer buf = ByteBuffer.allocate(g);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      for (long off = 0; off < d.sizeBytes(); off += g) {
        int len = (int) Math.min(g, d.sizeBytes() - off);
        buf.clear().limit(len);
        while (buf.hasRemaining() && ch.read(buf, off + buf.position()) > 0) {
          // read until full: the spool has exactly the VDI's size
        }
        if (allocated.get((int) (off / g)) || !allZero(buf.array(), len)) {
          buf.flip();
          d.write(buf, off);
        }
        progress.accept(off + len);
      }
    }
    d.flush();
  }

  /** Writes the present blocks of a spooled, validated VHD into the device. */
  static void applyVhd(Path file, VdiDevice d, LongConsumer progress)
      throws IOException, SmException {
    LocalImageStore store = LocalImageStore.open(file.getParent());
    String name = file.getFileName().toString();
    BitSet present;
    int block;
    try (VhdImage img = VhdImage.open(store, name, false)) {
      present = img.allocatedBlocks();
      block = img.isFixed() ? VhdExport.BLOCK_BYTES : img.header().blockSizeBytes();
    }
    ByteBuffer buf = ByteBuffer.allocate(block);
    try (VhdChain chain = VhdChain.open(store, name, false)) {
      for (int i = present.nextSetBit(0); i >= 0; i = present.nextSetBit(i + 1)) {
        long off = (long) i * block;
        int len = (int) Math.min(block, d.sizeBytes() - off);
        if (len <= 0) {
          break;
        }
        buf.clear().limit(len);
        chain.read(buf, off);
        buf.flip();
        d.write(buf, off);
        progress.accept(off + len);
      }
    }
    d.flush();
  }

  /** Removes spool files left by a crash. */
  static void cleanSpool(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      try (var s = Files.list(dir)) {
        for (Path p : s.toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
