package org.xsm.plugins.vhd;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The 1024-byte dynamic disk header at offset 512 of dynamic and differencing disks: where the
 * block allocation table is, the block size, and for differencing disks who the parent is.
 */
public record DynamicHeader(
    long tableOffset,
    int maxTableEntries,
    int blockSizeBytes,
    UUID parentUuid,
    long parentTimestamp,
    String parentName,
    List<ParentLocator> locators) {

  public static final int SIZE = 1024;
  public static final int OFFSET = 512;
  static final byte[] COOKIE = "cxsparse".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 0x00010000;
  public static final int DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024;

  /** Entries above this would address far more than the 2040 GiB limit at any block size. */
  static final int MAX_ENTRIES = 1 << 24;

  public DynamicHeader {
    locators = List.copyOf(locators);
    if (locators.size() != 8) {
      throw new IllegalArgumentException("a dynamic header has 8 locators");
    }
  }

  DynamicHeader withTable(long offset, int entries) {
    return new DynamicHeader(
        offset, entries, blockSizeBytes, parentUuid, parentTimestamp, parentName, locators);
  }

  DynamicHeader withParent(UUID uuid, long ts, String name, List<ParentLocator> locs) {
    return new DynamicHeader(tableOffset, maxTableEntries, blockSizeBytes, uuid, ts, name, locs);
  }

  public byte[] encode() {
    byte[] b = new byte[SIZE];
    System.arraycopy(COOKIE, 0, b, 0, 8);
    Be.put64(b, 8, -1L);
    Be.put64(b, 16, tableOffset);
    Be.put32(b, 24, VERSION);
    Be.put32(b, 28, maxTableEntries);
    Be.put32(b, 32, blockSizeBytes);
    Be.putUuid(b, 40, parentUuid);
    Be.put32(b, 56, (int) parentTimestamp);
    byte[] name = parentName.getBytes(StandardCharsets.UTF_16BE);
    System.arraycopy(name, 0, b, 64, Math.min(512, name.length));
    for (int i = 0; i < 8; i++) {
      ParentLocator l = locators.get(i);
      int o = 576 + 24 * i;
      Be.put32(b, o, l.code());
      Be.put32(b, o + 4, l.dataSpace());
      Be.put32(b, o + 8, l.dataLength());
      Be.put64(b, o + 16, l.dataOffset());
    }
    Be.put32(b, 36, Be.checksum(b, 0, SIZE, 36));
    return b;
  }

  /**
   * Decodes and validates the header fields that need nothing else of the file.
   *
   * @param what where the bytes came from, for messages
   */
  public static DynamicHeader decode(byte[] b, String what) throws VhdFormatException {
    if (b == null || b.length != SIZE) {
      throw new VhdFormatException(
          "VHD %s: %s is %d bytes, not %d"
              .formatted(what, "dynamic header", b == null ? 0 : b.length, SIZE));
    }
    Be.checkCookie(b, COOKIE, what);
    Be.checkChecksum(b, SIZE, 36, what);
    if (Be.i64(b, 8) != -1L) {
      throw new VhdFormatException(
          "VHD " + what + ": data offset " + Be.hex(Be.i64(b, 8)) + " must be all ones");
    }
    int version = Be.i32(b, 24);
    if (version != VERSION) {
      throw new VhdFormatException(
          "VHD " + what + ": unsupported header version " + Be.hex(version));
    }
    long table = Be.i64(b, 16);
    if (table < OFFSET + SIZE || table % 512 != 0) {
      throw new VhdFormatException(
          "VHD "
              + what
              + ": table offset "
              + table
              + " must be sector aligned and after the header");
    }
    long entries = Be.u32(b, 28);
    if (entries == 0 || entries > MAX_ENTRIES) {
      throw new VhdFormatException(
          "VHD " + what + ": max table entries " + entries + " out of range 1.." + MAX_ENTRIES);
    }
    int blockSize = Be.i32(b, 32);
    if (blockSize < 4096 || blockSize > (1 << 28) || Integer.bitCount(blockSize) != 1) {
      throw new VhdFormatException(
          "VHD "
              + what
              + ": block size "
              + Integer.toUnsignedLong(blockSize)
              + " is not a power of two in 4 KiB..256 MiB");
    }
    if (Be.i32(b, 60) != 0 || !Be.allZero(b, 768, SIZE)) {
      throw new VhdFormatException("VHD " + what + ": reserved header bytes are not zero");
    }
    String name = new String(b, 64, 512, StandardCharsets.UTF_16BE);
    int nul = name.indexOf('\0');
    if (nul >= 0) {
      name = name.substring(0, nul);
    }
    List<ParentLocator> locs = new ArrayList<>(8);
    for (int i = 0; i < 8; i++) {
      int o = 576 + 24 * i;
      ParentLocator l =
          new ParentLocator(Be.i32(b, o), Be.i32(b, o + 4), Be.i32(b, o + 8), Be.i64(b, o + 16));
      if (l.isUsed()) {
        if (!ParentLocator.knownCode(l.code())) {
          throw new VhdFormatException(
              "VHD "
                  + what
                  + ": parent locator "
                  + i
                  + " has unknown platform code '"
                  + ParentLocator.codeName(l.code())
                  + "'");
        }
        if (l.dataOffset() % 512 != 0
            || l.dataOffset() < OFFSET + SIZE
            || Integer.toUnsignedLong(l.dataLength()) > l.dataSpaceBytes()) {
          throw new VhdFormatException(
              "VHD "
                  + what
                  + ": parent locator "
                  + i
                  + " ("
                  + ParentLocator.codeName(l.code())
                  + ") is invalid: offset "
                  + l.dataOffset()
                  + ", length "
                  + Integer.toUnsignedLong(l.dataLength())
                  + ", space "
                  + l.dataSpaceBytes());
        }
      } else if (l.dataOffset() != 0 || l.dataLength() != 0 || l.dataSpace() != 0) {
        throw new VhdFormatException(
            "VHD " + what + ": unused parent locator " + i + " is not zero");
      }
      if (Be.i32(b, o + 12) != 0) {
        throw new VhdFormatException(
            "VHD " + what + ": reserved field of parent locator " + i + " is not zero");
      }
      locs.add(l);
    }
    return new DynamicHeader(
        table, (int) entries, blockSize, Be.uuid(b, 40), Be.u32(b, 56), name, locs);
  }
}
