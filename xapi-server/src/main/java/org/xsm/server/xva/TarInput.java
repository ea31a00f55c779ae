package org.xsm.server.xva;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads a tar archive file by file (ustar, GNU or pax: pax extended headers may rename the next
 * file, global ones are skipped). Each header's checksum is verified; a stream that ends inside a
 * header or a file is an {@link EOFException}, a malformed header an {@link XvaFormatException}.
 */
final class TarInput {
  /** A file's header: its name and size in bytes. */
  record Entry(String name, long sizeBytes) {}

  private final InputStream in;
  private final byte[] block = new byte[TarOutput.BLOCK];
  private long remaining;
  private int padding;

  TarInput(InputStream in) {
    this.in = in;
  }

  /**
   * The next file's header (after skipping what is left of the current one), or null at the end.
   */
  Entry next() throws IOException {
    skipRest();
    String paxName = null;
    while (true) {
      int n = in.readNBytes(block, 0, block.length);
      if (n == 0 && paxName == null) {
        return null; // an archive without its end blocks: xapi's reader accepts that too
      }
      if (n < block.length) {
        throw new EOFException("the archive ends inside a header");
      }
      if (allZero(block)) {
        return null;
      }
      verifyChecksum();
      long size = number(block, 124, 12);
      byte type = block[156];
      if (type == 'x' || type == 'g') {
        byte[] pax = readAll(size);
        if (type == 'x') {
          paxName = paxPath(pax);
        }
        continue;
      }
      if (type != '0' && type != 0 && type != '7') {
        throw new XvaFormatException(
            "unexpected tar entry type '" + (char) type + "' for " + name() + ": XVAs hold files");
      }
      remaining = size;
      padding = TarOutput.padding(size);
      return new Entry(paxName != null ? paxName : name(), size);
    }
  }

  /** Reads the whole current file (the caller checked its size). */
  byte[] readFile(Entry e) throws IOException {
    byte[] b = readAll(e.sizeBytes()); // with its padding
    remaining = 0;
    padding = 0;
    return b;
  }

  /** Reads exactly {@code len} bytes of the current file into {@code b}. */
  void readFully(byte[] b, int off, int len) throws IOException {
    if (len > remaining) {
      throw new IllegalArgumentException("read past the end of the tar entry");
    }
    int n = in.readNBytes(b, off, len);
    if (n < len) {
      throw new EOFException("the archive ends inside a file");
    }
    remaining -= len;
  }

  private byte[] readAll(long size) throws IOException {
    if (size > Integer.MAX_VALUE - 1024) {
      throw new XvaFormatException("tar entry of " + size + " bytes is too large to hold");
    }
    byte[] b = new byte[(int) size];
    if (in.readNBytes(b, 0, b.length) < b.length) {
      throw new EOFException("the archive ends inside a file");
    }
    skipExactly(TarOutput.padding(size));
    return b;
  }

  private void skipRest() throws IOException {
    skipExactly(remaining + padding);
    remaining = 0;
    padding = 0;
  }

  private void skipExactly(long n) throws IOException {
    if (n > 0) {
      in.skipNBytes(n); // EOFException if the stream ends first
    }
  }

  private String name() {
    String name = cString(block, 0, 100);
    boolean ustar = block[257] == 'u' && block[258] == 's' && block[259] == 't';
    String prefix = ustar ? cString(block, 345, 155) : "";
    return prefix.isEmpty() ? name : prefix + "/" + name;
  }

  private void verifyChecksum() throws XvaFormatException {
    long stored = number(block, 148, 8);
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < block.length; i++) {
      int b = (i >= 148 && i < 156) ? ' ' : block[i];
      unsigned += b & 0xFF;
      signed += b;
    }
    if (stored != unsigned && stored != signed) {
      throw new XvaFormatException(
          "tar header checksum mismatch: stored " + stored + ", computed " + unsigned);
    }
  }

  /** An octal field (NUL/space terminated) or GNU base-256 (high bit of the first byte set). */
  private static long number(byte[] b, int at, int width) throws XvaFormatException {
    if ((b[at] & 0x80) != 0) {
      long v = b[at] & 0x7F;
      for (int i = 1; i < width; i++) {
        v = (v << 8) | (b[at + i] & 0xFF);
      }
      return v;
    }
    long v = 0;
    int i = at;
    int end = at + width;
    while (i < end && (b[i] == ' ' || b[i] == 0)) {
      i++;
    }
    for (; i < end && b[i] != 0 && b[i] != ' '; i++) {
      if (b[i] < '0' || b[i] > '7') {
        throw new XvaFormatException("tar header has a non-octal number field");
      }
      v = v * 8 + (b[i] - '0');
    }
    return v;
  }

  private static String paxPath(byte[] pax) {
    String s = new String(pax, UTF_8);
    for (String line : s.split("\n")) {
      int sp = line.indexOf(' ');
      int eq = line.indexOf('=');
      if (sp > 0 && eq > sp && line.substring(sp + 1, eq).equals("path")) {
        return line.substring(eq + 1);
      }
    }
    return null;
  }

  private static String cString(byte[] b, int at, int width) {
    int end = at;
    while (end < at + width && b[end] != 0) {
      end++;
    }
    return new String(b, at, end - at, UTF_8);
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }
}
