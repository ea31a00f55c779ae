package org.xsm.plugins.vhd;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/** Big-endian field access and the VHD checksum and clock. */
final class Be {
  /** 2000-01-01T00:00:00Z, the VHD epoch, in Unix seconds. */
  static final long VHD_EPOCH_UNIX_SECONDS = 946_684_800L;

  private Be() {}

  static int u16(byte[] b, int off) {
    return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
  }

  static int i32(byte[] b, int off) {
    return ((b[off] & 0xff) << 24)
        | ((b[off + 1] & 0xff) << 16)
        | ((b[off + 2] & 0xff) << 8)
        | (b[off + 3] & 0xff);
  }

  static long u32(byte[] b, int off) {
    return Integer.toUnsignedLong(i32(b, off));
  }

  static long i64(byte[] b, int off) {
    return ((long) i32(b, off) << 32) | u32(b, off + 4);
  }

  static void put16(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 8);
    b[off + 1] = (byte) v;
  }

  static void put32(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static void put64(byte[] b, int off, long v) {
    put32(b, off, (int) (v >>> 32));
    put32(b, off + 4, (int) v);
  }

  static UUID uuid(byte[] b, int off) {
    return new UUID(i64(b, off), i64(b, off + 8));
  }

  static void putUuid(byte[] b, int off, UUID u) {
    put64(b, off, u.getMostSignificantBits());
    put64(b, off + 8, u.getLeastSignificantBits());
  }

  static boolean isNil(UUID u) {
    return u.getMostSignificantBits() == 0 && u.getLeastSignificantBits() == 0;
  }

  /** One's complement of the byte sum, with the 4-byte checksum field at {@code skip} zeroed. */
  static int checksum(byte[] b, int from, int to, int skip) {
    int sum = 0;
    for (int i = from; i < to; i++) {
      if (i >= skip && i < skip + 4) {
        continue;
      }
      sum += b[i] & 0xff;
    }
    return ~sum;
  }

  /** Checks the 8-byte cookie at the start of a structure. */
  static void checkCookie(byte[] b, byte[] cookie, String what) throws VhdFormatException {
    if (!java.util.Arrays.equals(b, 0, 8, cookie, 0, 8)) {
      throw new VhdFormatException(
          "VHD "
              + what
              + ": bad cookie '"
              + new String(b, 0, 8, StandardCharsets.ISO_8859_1).replaceAll("[^ -~]", "?")
              + "', expected '"
              + new String(cookie, StandardCharsets.ISO_8859_1)
              + "'");
    }
  }

  /** Checks the checksum stored at {@code at} over the first {@code size} bytes. */
  static void checkChecksum(byte[] b, int size, int at, String what) throws VhdFormatException {
    int stored = i32(b, at);
    int computed = checksum(b, 0, size, at);
    if (stored != computed) {
      throw new VhdFormatException(
          "VHD "
              + what
              + " checksum mismatch: stored "
              + hex(Integer.toUnsignedLong(stored))
              + ", computed "
              + hex(Integer.toUnsignedLong(computed)));
    }
  }

  /** Bit {@code i} of an MSB-first bitmap (sector bitmaps and the batmap). */
  static boolean bit(byte[] map, int i) {
    return (map[i >>> 3] & (0x80 >>> (i & 7))) != 0;
  }

  /**
   * The first bit at or after {@code from} and before {@code to} whose value is not {@code value}
   * ({@code to} if none): the end of a run of equal bits, found a byte (8 sectors) at a time where
   * whole bytes are equal.
   */
  static int runEnd(byte[] map, int from, int to, boolean value) {
    int same = value ? 0xff : 0;
    int i = from;
    while (i < to) {
      if ((i & 7) == 0 && i + 8 <= to) {
        if ((map[i >>> 3] & 0xff) == same) {
          i += 8;
          continue;
        }
      }
      if (bit(map, i) != value) {
        return i;
      }
      i++;
    }
    return to;
  }

  static boolean allZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Now, in VHD time (seconds since 2000-01-01 UTC). */
  static long vhdNow() {
    return Instant.now().getEpochSecond() - VHD_EPOCH_UNIX_SECONDS;
  }

  static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }

  static long pad512(long v) {
    return (v + 511) & ~511L;
  }
}
