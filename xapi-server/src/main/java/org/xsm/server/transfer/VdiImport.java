package org.xsm.server.transfer;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.LongConsumer;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.VhdFormatException;
import org.xsm.plugins.vhd.VhdImage;
import org.xsm.plugins.vhd.VhdOwnBlocks;

/**
 * An upload into a VDI, in two steps so that bad input changes nothing: the body is first spooled
 * to a local file (sparse: zero runs are not written) and checked whole (exact size for raw; for a
 * VHD, the VHD engine's validation, no parent, the VDI's virtual size); only then is it applied to
 * the VDI through its device. A truncated, oversized or malformed upload therefore fails before the
 * VDI is touched.
 *
 * <p>Applying writes every 2 MiB chunk of a raw image except all-zero chunks over holes (so holes
 * stay holes), the present blocks of a dynamic VHD, and exactly the present sectors of a
 * differencing VHD (so a delta applied over a copy of its base gives the exported VDI, as xapi's
 * import does; the parent it names is not needed).
 *
 * <p>Crash safety: a crash while spooling leaves only the spool file, deleted at the next start;
 * the VDI is unchanged. Before applying, the spool is forced to disk and a redo record ({@code
 * <spool>.apply}: VDI UUID and format, written to a temporary file, forced, renamed) is made; it is
 * deleted after the VDI is flushed, before the spool. A crash while applying leaves the record: at
 * the next start the import is applied again from the spool (applying is idempotent: the same bytes
 * at the same places), so the VDI ends as the import would have left it.
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

  /**
   * Spools a VHD and validates it: whole (ending with its footer: an upload cut short is refused
   * even where the VHD engine could recover the footer from its copy at offset 0), of the VDI's
   * virtual size. A differencing VHD is accepted without its parent: its present sectors are what
   * {@link #applyVhd} writes.
   */
  static void spoolVhd(InputStream in, Path file, long sizeBytes, LongConsumer progress)
      throws IOException, TransferException {
    long limit = sizeBytes + sizeBytes / 4096 + VHD_OVERHEAD_BYTES;
    long got = spool(in, file, limit, progress);
    LocalImageStore store = LocalImageStore.open(file.getParent());
    try (VhdImage img = VhdImage.open(store, file.getFileName().toString(), false)) {
      if (img.wasRecovered()) {
        throw TransferException.badInput(
            "truncated upload: the VHD's " + got + " bytes do not end with its footer");
      }
      long excess = img.virtualSizeBytes() - sizeBytes;
      // Older vhd-lib (0.7) makes the current size the size its rounded-up geometry addresses, a
      // little past the disk: accepted while nothing past the VDI's end is present.
      boolean rounding =
          excess > 0 && excess < DeltaBlocks.BLOCK_BYTES && !presentPast(img, sizeBytes);
      if (excess != 0 && !rounding) {
        throw TransferException.badInput(
            "wrong size: the VHD's virtual size is "
                + img.virtualSizeBytes()
                + " bytes, the VDI's "
                + sizeBytes);
      }
    } catch (VhdFormatException | java.io.EOFException e) {
      throw TransferException.badInput(
          "not a valid VHD (truncated or malformed, "
              + got
              + " bytes received): "
              + e.getMessage());
    }
  }

  /** Whether the image has a present sector at or past {@code end}. */
  private static boolean presentPast(VhdImage img, long end) throws IOException {
    int block = img.blockSize();
    BitSet present = img.allocatedBlocks();
    for (int i = present.nextSetBit((int) (end / block)); i >= 0; i = present.nextSetBit(i + 1)) {
      long first = (long) i * block;
      BitSet sectors = VhdOwnBlocks.presentSectors(img, i);
      int from = (int) (Math.max(0, end - first) / 512);
      if (sectors.nextSetBit(from) >= 0) {
        return true;
      }
    }
    return false;
  }

  /** Copies the body to {@code file}, refusing more than {@code limit} bytes; returns the count. */
  static long spool(InputStream in, Path file, long limit, LongConsumer progress)
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

  /**
   * Writes a spooled, validated VHD into the device: each present block of a dynamic or fixed VHD
   * whole (its absent sectors read as zeros), and of a differencing VHD exactly the sectors its
   * bitmaps mark present, the rest of the device left as it is.
   */
  static void applyVhd(Path file, VdiDevice d, LongConsumer progress)
      throws IOException, SmException {
    LocalImageStore store = LocalImageStore.open(file.getParent());
    String name = file.getFileName().toString();
    try (VhdImage img = VhdImage.open(store, name, false)) {
      BitSet present = img.allocatedBlocks();
      int block = img.blockSize();
      boolean delta = img.hasParent();
      ByteBuffer buf = ByteBuffer.allocate(block);
      for (int i = present.nextSetBit(0); i >= 0; i = present.nextSetBit(i + 1)) {
        long off = (long) i * block;
        int len = (int) Math.min(block, d.sizeBytes() - off);
        if (len <= 0) {
          break;
        }
        BitSet sectors = VhdOwnBlocks.presentSectors(img, i);
        buf.clear().limit(len);
        VhdOwnBlocks.readOwn(img, i, 0, buf);
        if (!delta) {
          zeroAbsent(buf.array(), sectors, len);
          buf.flip();
          d.write(buf, off);
        } else {
          writeRuns(d, buf.array(), sectors, off, len);
        }
        progress.accept(off + len);
      }
    }
    d.flush();
  }

  private static void zeroAbsent(byte[] data, BitSet sectors, int len) {
    for (int s = sectors.nextClearBit(0); s * 512 < len; s = sectors.nextClearBit(s + 1)) {
      Arrays.fill(data, s * 512, Math.min(len, (s + 1) * 512), (byte) 0);
    }
  }

  /** Writes each run of present sectors of one block. */
  private static void writeRuns(VdiDevice d, byte[] data, BitSet sectors, long blockOff, int len)
      throws SmException {
    for (int s = sectors.nextSetBit(0); s >= 0 && s * 512 < len; ) {
      int e = sectors.nextClearBit(s);
      int from = s * 512;
      int to = Math.min(len, e * 512);
      d.write(ByteBuffer.wrap(data, from, to - from), blockOff + from);
      s = sectors.nextSetBit(e);
    }
  }

  /** What a redo record says: which VDI (by UUID) gets which spooled image, in which format. */
  record Redo(Path spool, String vdiUuid, String format) {}

  private static Path redoFile(Path spool) {
    return spool.resolveSibling(spool.getFileName() + ".apply");
  }

  /** Makes the spool durable, then the redo record; from here a crash rolls the import forward. */
  static void markApplying(Path spool, String vdiUuid, String format) throws IOException {
    try (FileChannel ch = FileChannel.open(spool, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Path tmp = spool.resolveSibling(spool.getFileName() + ".apply.tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap((vdiUuid + "\n" + format + "\n").getBytes(UTF_8)));
      ch.force(true);
    }
    Files.move(tmp, redoFile(spool), StandardCopyOption.ATOMIC_MOVE);
    forceDirectory(spool.getParent());
  }

  /** Ends an import (applied, or failed and reported): the redo record first, then the spool. */
  static void finish(Path spool) throws IOException {
    if (Files.deleteIfExists(redoFile(spool))) {
      forceDirectory(spool.getParent());
    }
    Files.deleteIfExists(spool);
  }

  private static void forceDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /**
   * After a restart: the imports to apply again (redo records whose spool exists); every other file
   * of the spool directory (spools never validated, records without spool) is deleted.
   */
  static List<Redo> recover(Path dir) throws IOException {
    List<Redo> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (var s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (n.endsWith(".apply")) {
          Path spool = dir.resolve(n.substring(0, n.length() - ".apply".length()));
          List<String> lines = Files.readAllLines(p, UTF_8);
          if (Files.exists(spool) && lines.size() >= 2) {
            out.add(new Redo(spool, lines.get(0), lines.get(1)));
          }
        }
      }
    }
    try (var s = Files.list(dir)) {
      for (Path p : s.toList()) {
        boolean kept = out.stream().anyMatch(r -> r.spool.equals(p) || redoFile(r.spool).equals(p));
        if (!kept) {
          Files.deleteIfExists(p);
        }
      }
    }
    return out;
  }
}
