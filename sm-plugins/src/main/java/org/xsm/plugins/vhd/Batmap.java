package org.xsm.plugins.vhd;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * blktap's batmap ("tdbatmap"): one bit per block, MSB first, set when the block is fully allocated
 * in this file so readers may skip its sector bitmap. Its header sits right after the padded BAT;
 * the map is checksummed as a whole. An all-zero map is always correct.
 */
final class Batmap {
  static final int HEADER_SIZE = 512;
  static final int VERSION = 0x00010002;
  private static final byte[] COOKIE = "tdbatmap".getBytes(StandardCharsets.US_ASCII);

  final long mapOffset;
  final int mapSectors;
  final byte[] map;

  Batmap(long mapOffset, int mapSectors, byte[] map) {
    this.mapOffset = mapOffset;
    this.mapSectors = mapSectors;
    this.map = map;
  }

  static int sectorsFor(int entries) {
    return (int) (Be.pad512((entries + 7) / 8) / 512);
  }

  boolean test(int block) {
    return Be.bit(map, block);
  }

  void set(int block) {
    map[block >>> 3] |= (byte) (0x80 >>> (block & 7));
  }

  int checksum() {
    int sum = 0;
    for (byte b : map) {
      sum += b & 0xff;
    }
    return ~sum;
  }

  byte[] encodeHeader() {
    byte[] h = new byte[HEADER_SIZE];
    System.arraycopy(COOKIE, 0, h, 0, 8);
    Be.put64(h, 8, mapOffset);
    Be.put32(h, 16, mapSectors);
    Be.put32(h, 20, VERSION);
    Be.put32(h, 24, checksum());
    return h;
  }

  /** Decodes and validates a batmap header; the map itself is checked by {@link #verify}. */
  static Batmap decodeHeader(byte[] h, int entries, String what) throws VhdFormatException {
    if (!Arrays.equals(h, 0, 8, COOKIE, 0, 8)) {
      throw new VhdFormatException(
          "VHD " + what + ": batmap header cookie is not 'tdbatmap' (creator tap 1.2+ needs one)");
    }
    int version = Be.i32(h, 20);
    if (version != VERSION && version != 0x00010001) {
      throw new VhdFormatException(
          "VHD " + what + ": unsupported batmap version " + Be.hex(version));
    }
    long off = Be.i64(h, 8);
    long sectors = Be.u32(h, 16);
    if (off % 512 != 0 || off < 1536 || sectors < sectorsFor(entries) || sectors > (1 << 16)) {
      throw new VhdFormatException(
          "VHD " + what + ": batmap at " + off + " of " + sectors + " sectors is invalid");
    }
    return new Batmap(off, (int) sectors, new byte[(int) sectors * 512]);
  }

  void verify(byte[] header, String what) throws VhdFormatException {
    int stored = Be.i32(header, 24);
    if (stored != checksum()) {
      throw new VhdFormatException(
          "VHD "
              + what
              + ": batmap checksum mismatch: stored "
              + Be.hex(Integer.toUnsignedLong(stored))
              + ", computed "
              + Be.hex(Integer.toUnsignedLong(checksum())));
    }
  }
}
