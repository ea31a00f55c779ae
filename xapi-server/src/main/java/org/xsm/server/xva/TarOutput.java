package org.xsm.server.xva;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes a POSIX ustar archive, as xapi's export does: each file a 512-byte header (mode 0644,
 * owner 0, the given modification time) then its data padded to 512 bytes, and two zero blocks at
 * the end. Names must fit the 100-byte name field (XVA names are at most {@code Ref:<n>/<8
 * digits>.xxhash}).
 */
final class TarOutput {
  static final int BLOCK = 512;
  private static final byte[] ZEROS = new byte[BLOCK];

  private final OutputStream out;
  private final long mtimeSeconds;

  TarOutput(OutputStream out, long mtimeSeconds) {
    this.out = out;
    this.mtimeSeconds = mtimeSeconds;
  }

  /** One whole file. */
  void file(String name, byte[] data, int off, int len) throws IOException {
    out.write(header(name, len, mtimeSeconds));
    out.write(data, off, len);
    int pad = padding(len);
    if (pad > 0) {
      out.write(ZEROS, 0, pad);
    }
  }

  /** The end-of-archive marker: two zero blocks. */
  void finish() throws IOException {
    out.write(ZEROS);
    out.write(ZEROS);
    out.flush();
  }

  static int padding(long size) {
    return (int) ((BLOCK - size % BLOCK) % BLOCK);
  }

  static byte[] header(String name, long size, long mtimeSeconds) {
    byte[] h = new byte[BLOCK];
    byte[] n = name.getBytes(UTF_8);
    if (n.length > 100) {
      throw new IllegalArgumentException("tar name longer than 100 bytes: " + name);
    }
    System.arraycopy(n, 0, h, 0, n.length);
    octal(h, 100, 8, 0644);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, size);
    octal(h, 136, 12, mtimeSeconds);
    h[156] = '0';
    put(h, 257, "ustar\0");
    put(h, 263, "00");
    put(h, 265, "root");
    put(h, 297, "root");
    for (int i = 148; i < 156; i++) {
      h[i] = ' ';
    }
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xFF;
    }
    String s = String.format("%06o", sum);
    put(h, 148, s);
    h[154] = 0;
    h[155] = ' ';
    return h;
  }

  /** {@code width - 1} octal digits and a NUL. */
  private static void octal(byte[] h, int at, int width, long v) {
    String s = Long.toOctalString(v);
    if (s.length() > width - 1) {
      throw new IllegalArgumentException("value " + v + " does not fit a tar field of " + width);
    }
    put(h, at, "0".repeat(width - 1 - s.length()) + s);
    h[at + width - 1] = 0;
  }

  private static void put(byte[] h, int at, String s) {
    byte[] b = s.getBytes(US_ASCII);
    System.arraycopy(b, 0, h, at, b.length);
  }
}
