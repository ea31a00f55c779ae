package org.xsm.server.xva;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.function.LongConsumer;
import org.jboss.logging.Logger;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;

/**
 * A disk inside an XVA (xapi's stream_vdi.ml): the VDI cut into 1 MiB chunks, each a file {@code
 * <id>/<8-digit chunk number>} followed by its checksum file. Chunks that read as zeros are left
 * out, except the first and the last, which are always present (the reader knows the disk has ended
 * when the last one arrives). Chunk numbers increase; a gap is that many zero chunks.
 *
 * <p>Checksums: xapi writes XXH64 ({@code .xxhash}, 16 upper-case hex digits) and reads that or
 * SHA-1 ({@code .checksum}, 40 lower-case hex digits, older exports); so does this class.
 *
 * <p>One chunk is in memory at a time, read from or written to the VDI's device.
 */
final class DiskChunks {
  static final int CHUNK_BYTES = 1024 * 1024;
  static final String XXHASH = ".xxhash";
  static final String SHA1 = ".checksum";
  private static final Logger LOG = Logger.getLogger(DiskChunks.class);

  private DiskChunks() {}

  /** Writes the disk {@code d} under {@code prefix}; {@code progress} gets bytes covered. */
  static void write(TarOutput tar, String prefix, VdiDevice d, LongConsumer progress)
      throws IOException, SmException {
    long size = d.sizeBytes();
    int g = d.allocationBlockSizeBytes();
    BitSet allocated = d.allocatedBlocks();
    byte[] buf = new byte[CHUNK_BYTES];
    long chunks = (size + CHUNK_BYTES - 1) / CHUNK_BYTES;
    for (long i = 0; i < chunks; i++) {
      long off = i * CHUNK_BYTES;
      int len = (int) Math.min(CHUNK_BYTES, size - off);
      boolean firstOrLast = i == 0 || i == chunks - 1;
      boolean mayHoldData =
          allocated.get((int) (off / g), (int) ((off + len - 1) / g) + 1).cardinality() > 0;
      if (mayHoldData || firstOrLast) {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, len);
        if (mayHoldData) {
          d.read(b, off);
        } else {
          java.util.Arrays.fill(buf, 0, len, (byte) 0);
        }
        if (firstOrLast || !allZero(buf, len)) {
          String name = prefix + "/" + String.format("%08d", i);
          tar.file(name, buf, 0, len);
          byte[] sum = XxHash64.hex(buf, 0, len).getBytes(US_ASCII);
          tar.file(name + XXHASH, sum, 0, sum.length);
        }
      }
      progress.accept(off + len);
    }
  }

  /**
   * Reads the disk under {@code prefix} into {@code d}, a new VDI (all zeros: zero chunks are not
   * written, so holes stay holes). A checksum that does not match is refused unless {@code force}
   * (then logged), as xapi's import does; the chunk is written only after its checksum is checked.
   * The disk has {@code size} bytes in the archive; the device may be larger (an SR rounds sizes).
   */
  static void read(
      TarInput tar, String prefix, VdiDevice d, long size, boolean force, LongConsumer progress)
      throws IOException, SmException {
    if (d.sizeBytes() < size) {
      throw new IOException("the new VDI has " + d.sizeBytes() + " bytes, the archive's " + size);
    }
    byte[] buf = new byte[CHUNK_BYTES];
    long offset = 0;
    long last = -1;
    while (offset < size) {
      TarInput.Entry e = tar.next();
      if (e == null) {
        throw new EOFException("the archive ends before the last chunk of " + prefix);
      }
      if (!e.name().startsWith(prefix + "/")) {
        throw new XvaFormatException("expected a chunk of " + prefix + ", found " + e.name());
      }
      long n = chunkNumber(e.name().substring(prefix.length() + 1), e.name());
      if (n <= last) {
        throw new XvaFormatException("chunk " + e.name() + " is out of order (after " + last + ")");
      }
      offset += (n - last - 1) * CHUNK_BYTES; // skipped chunks: zeros
      last = n;
      long len = e.sizeBytes();
      if (len > CHUNK_BYTES || offset + len > size) {
        throw new XvaFormatException(
            "chunk " + e.name() + " of " + len + " bytes goes past the disk's " + size + " bytes");
      }
      tar.readFully(buf, 0, (int) len);
      verify(tar, e.name(), buf, (int) len, force);
      if (!allZero(buf, (int) len)) {
        d.write(ByteBuffer.wrap(buf, 0, (int) len), offset);
      }
      offset += len;
      progress.accept(offset);
    }
    d.flush();
  }

  private static long chunkNumber(String suffix, String name) throws XvaFormatException {
    if (suffix.isEmpty() || suffix.length() > 18 || !suffix.chars().allMatch(Character::isDigit)) {
      throw new XvaFormatException("not a chunk file name: " + name);
    }
    return Long.parseLong(suffix);
  }

  private static void verify(TarInput tar, String name, byte[] buf, int len, boolean force)
      throws IOException {
    TarInput.Entry c = tar.next();
    if (c == null) {
      throw new EOFException("the archive ends before the checksum of " + name);
    }
    String expected;
    if (c.name().equals(name + XXHASH)) {
      expected = XxHash64.hex(buf, 0, len);
    } else if (c.name().equals(name + SHA1)) {
      expected = sha1(buf, len);
    } else {
      throw new XvaFormatException("expected the checksum of " + name + ", found " + c.name());
    }
    if (c.sizeBytes() > 128) {
      throw new XvaFormatException("checksum file " + c.name() + " is " + c.sizeBytes() + " bytes");
    }
    String stored = new String(tar.readFile(c), US_ASCII).strip();
    if (!stored.equalsIgnoreCase(expected)) {
      if (!force) {
        throw new ChecksumException(name, stored, expected);
      }
      LOG.warnf(
          "chunk %s checksum mismatch (stored %s, computed %s): kept, as force is set",
          name, stored, expected);
    }
  }

  private static String sha1(byte[] buf, int len) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-1");
      md.update(buf, 0, len);
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-1", e);
    }
  }

  static boolean allZero(byte[] b, int len) {
    for (int i = 0; i < len; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** A chunk whose data does not match its checksum file. */
  static final class ChecksumException extends IOException {
    ChecksumException(String chunk, String stored, String computed) {
      super("chunk " + chunk + " checksum mismatch: stored " + stored + ", computed " + computed);
    }
  }
}
