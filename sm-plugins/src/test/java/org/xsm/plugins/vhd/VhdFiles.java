package org.xsm.plugins.vhd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.xsm.plugins.store.LocalImageStore;

/**
 * Test support: patches VHD files in place with a {@link FileChannel}, independently of the
 * engine's own encoders, and checks that a failed open leaves the directory exactly as it was.
 */
final class VhdFiles {
  static final long MIB = 1024 * 1024;
  static final int FOOTER_SIZE = 512;
  static final int HEADER_OFFSET = 512;
  static final int HEADER_SIZE = 1024;
  static final int FOOTER_CHECKSUM = 64;
  static final int HEADER_CHECKSUM = 36;

  private VhdFiles() {}

  /** An edit of a structure's bytes; the buffer is big-endian and positioned at its start. */
  interface Edit {
    void apply(ByteBuffer b);
  }

  static byte[] read(Path f, long offset, int length) throws IOException {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(length);
      while (b.hasRemaining()) {
        if (ch.read(b, offset + b.position()) < 0) {
          throw new IOException("short read of " + f + " at " + offset);
        }
      }
      return b.array();
    }
  }

  static void write(Path f, long offset, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b, offset + b.position());
      }
    }
  }

  static void truncate(Path f, long length) throws IOException {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.truncate(length);
    }
  }

  static long size(Path f) throws IOException {
    return Files.size(f);
  }

  static long readLong(Path f, long offset) throws IOException {
    return ByteBuffer.wrap(read(f, offset, 8)).getLong();
  }

  static int readInt(Path f, long offset) throws IOException {
    return ByteBuffer.wrap(read(f, offset, 4)).getInt();
  }

  static void writeInt(Path f, long offset, int v) throws IOException {
    write(f, offset, ByteBuffer.allocate(4).putInt(v).array());
  }

  static void writeLong(Path f, long offset, long v) throws IOException {
    write(f, offset, ByteBuffer.allocate(8).putLong(v).array());
  }

  /** Inverts every bit of one byte. */
  static void flipByte(Path f, long offset) throws IOException {
    byte[] b = read(f, offset, 1);
    b[0] = (byte) ~b[0];
    write(f, offset, b);
  }

  /** The VHD checksum: one's complement of the byte sum, the 4 bytes at {@code skip} excluded. */
  static int checksum(byte[] b, int skip) {
    int sum = 0;
    for (int i = 0; i < b.length; i++) {
      if (i < skip || i >= skip + 4) {
        sum += b[i] & 0xff;
      }
    }
    return ~sum;
  }

  /** Applies {@code e} to {@code length} bytes at {@code offset}, with no checksum fix-up. */
  static void editRaw(Path f, long offset, int length, Edit e) throws IOException {
    byte[] b = read(f, offset, length);
    e.apply(ByteBuffer.wrap(b));
    write(f, offset, b);
  }

  private static void editChecksummed(Path f, long offset, int length, int sumAt, Edit e)
      throws IOException {
    byte[] b = read(f, offset, length);
    ByteBuffer bb = ByteBuffer.wrap(b);
    e.apply(bb);
    bb.putInt(sumAt, checksum(b, sumAt));
    write(f, offset, b);
  }

  /** Edits the footer at the end of the file and recomputes its checksum. */
  static void editPrimaryFooter(Path f, Edit e) throws IOException {
    editChecksummed(f, size(f) - FOOTER_SIZE, FOOTER_SIZE, FOOTER_CHECKSUM, e);
  }

  /** Edits the footer copy at offset 0 and recomputes its checksum. */
  static void editBackupFooter(Path f, Edit e) throws IOException {
    editChecksummed(f, 0, FOOTER_SIZE, FOOTER_CHECKSUM, e);
  }

  /** Edits both footer copies of a dynamic or differencing disk alike. */
  static void editBothFooters(Path f, Edit e) throws IOException {
    editPrimaryFooter(f, e);
    editBackupFooter(f, e);
  }

  /** Edits the dynamic header and recomputes its checksum. */
  static void editHeader(Path f, Edit e) throws IOException {
    editChecksummed(f, HEADER_OFFSET, HEADER_SIZE, HEADER_CHECKSUM, e);
  }

  static long tableOffset(Path f) throws IOException {
    return readLong(f, HEADER_OFFSET + 16);
  }

  static int tableEntries(Path f) throws IOException {
    return readInt(f, HEADER_OFFSET + 28);
  }

  /** Where the batmap header sits: right after the BAT, padded to a sector. */
  static long batmapHeaderOffset(Path f) throws IOException {
    long batBytes = 4L * tableEntries(f);
    return tableOffset(f) + (batBytes + 511) / 512 * 512;
  }

  /** Offset in the header of the 24-byte parent locator entry {@code i}. */
  static int locatorEntry(int i) {
    return 576 + 24 * i;
  }

  /** File names with their size and SHA-256: what "nothing changed" compares. */
  static Map<String, String> state(Path dir) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        long size = Files.size(p);
        // Large sparse files (a huge journal) are compared by size only, to stay fast.
        m.put(p.getFileName().toString(), size + (size <= 256 * MIB ? " " + sha256(p) : ""));
      }
    }
    return m;
  }

  private static String sha256(Path p) throws IOException {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(Files.readAllBytes(p));
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Asserts that {@code call} fails with a {@link VhdFormatException} whose message contains each
   * phrase, and that the directory is byte for byte what it was before.
   */
  static void assertFailsUnchanged(Path dir, ThrowingCallable call, String... phrases)
      throws IOException {
    Map<String, String> before = state(dir);
    var thrown = assertThatThrownBy(call).isInstanceOf(VhdFormatException.class);
    for (String p : phrases) {
      thrown.hasMessageContaining(p);
    }
    assertThat(state(dir)).as("directory after the failed open").isEqualTo(before);
  }

  /**
   * Asserts that opening {@code name} read-only and read-write both fail naming {@code phrases},
   * and change nothing on disk.
   */
  static void assertOpenFails(LocalImageStore store, String name, String... phrases)
      throws IOException {
    Path dir = store.directory();
    assertFailsUnchanged(dir, () -> VhdImage.open(store, name, false).close(), phrases);
    assertFailsUnchanged(dir, () -> VhdImage.open(store, name, true).close(), phrases);
  }

  /** Like {@link #assertOpenFails}, for a chain opened at {@code leaf}. */
  static void assertChainOpenFails(LocalImageStore store, String leaf, String... phrases)
      throws IOException {
    Path dir = store.directory();
    assertFailsUnchanged(dir, () -> VhdChain.open(store, leaf, false).close(), phrases);
    assertFailsUnchanged(dir, () -> VhdChain.open(store, leaf, true).close(), phrases);
  }

  /** Writes through the chain at {@code name} and flushes. */
  static void writeDisk(LocalImageStore store, String name, long offset, byte[] data)
      throws IOException {
    try (VhdChain c = VhdChain.open(store, name, true)) {
      c.write(ByteBuffer.wrap(data), offset);
      c.flush();
    }
  }

  static byte[] readDisk(LocalImageStore store, String name, long offset, int length)
      throws IOException {
    try (VhdChain c = VhdChain.open(store, name, false)) {
      ByteBuffer b = ByteBuffer.allocate(length);
      c.read(b, offset);
      return b.array();
    }
  }

  /** Deterministic non-zero test data. */
  static byte[] pattern(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (1 + (i * 31 + seed * 17) % 251);
    }
    return b;
  }
}
