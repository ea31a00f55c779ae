package org.xsm.plugins.vhd;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The 512-byte VHD footer. Dynamic and differencing disks keep an identical copy at offset 0. Byte
 * 85 is blktap's hidden flag (inside the checksum), which the VHD specification counts as reserved.
 */
public record VhdFooter(
    int features,
    int fileFormatVersion,
    long dataOffset,
    long timestamp,
    String creatorApp,
    int creatorVersion,
    int creatorHostOs,
    long originalSizeBytes,
    long currentSizeBytes,
    Geometry geometry,
    DiskType diskType,
    UUID uuid,
    int savedState,
    boolean hidden) {

  public static final int SIZE = 512;
  static final byte[] COOKIE = "conectix".getBytes(StandardCharsets.US_ASCII);
  static final int FEATURE_RESERVED = 0x2;
  static final int FORMAT_VERSION = 0x00010000;

  /** Creator application written by blktap, and by this engine. */
  public static final String CREATOR_TAP = "tap\0";

  /** Xen Orchestra's vhd-lib. */
  public static final String CREATOR_XO = "xo  ";

  /** Creator version 1.3: blktap's version with the batmap. */
  public static final int CREATOR_VERSION_TAP = 0x00010003;

  /** Largest virtual size the engine creates or accepts: 2040 GiB (qemu's VHD_MAX_SECTORS). */
  public static final long MAX_SIZE_BYTES = 0xff000000L * 512;

  /**
   * The virtual size as qemu and blktap see it: {@link #currentSizeBytes} for creators that mean it
   * ("tap", "qem2", "win ", "d2v ", "CTXS", and Xen Orchestra's "xo ") and for maximal geometry,
   * otherwise the size the geometry addresses, which is what Virtual PC and older qemu used.
   */
  public long virtualSizeBytes() {
    return virtualSize(creatorApp, geometry, currentSizeBytes);
  }

  /** The size rule of {@link #virtualSizeBytes()} for given fields. */
  private static long virtualSize(String creatorApp, Geometry geometry, long currentSizeBytes) {
    boolean useCurrentSize =
        switch (creatorApp) {
          case CREATOR_TAP, "qem2", "win ", "d2v ", "CTXS", CREATOR_XO -> true;
          default -> false;
        };
    if (useCurrentSize || geometry.totalSectors() == Geometry.MAX_GEOMETRY_SECTORS) {
      return currentSizeBytes;
    }
    return geometry.totalSectors() * 512;
  }

  /** Whether the geometry is advisory: the size is the current size, whatever it addresses. */
  private static boolean geometryAdvisory(String creatorApp, Geometry g, long currentSizeBytes) {
    return virtualSize(creatorApp, g, currentSizeBytes) == currentSizeBytes;
  }

  /** Whether this footer's creator promises a batmap (blktap version 1.2 and later). */
  boolean expectsBatmap() {
    return CREATOR_TAP.equals(creatorApp) && creatorVersion >= 0x00010002;
  }

  public VhdFooter withHidden(boolean h) {
    return new VhdFooter(
        features,
        fileFormatVersion,
        dataOffset,
        timestamp,
        creatorApp,
        creatorVersion,
        creatorHostOs,
        originalSizeBytes,
        currentSizeBytes,
        geometry,
        diskType,
        uuid,
        savedState,
        h);
  }

  /**
   * The footer for a disk grown to {@code sizeBytes}: current and original size (libvhdi reports
   * the original size as the media size), and the geometry for the new size.
   *
   * <p>Spec deviation: a disk whose creator makes readers derive the size from the geometry
   * ("qemu", "vpc ", ...) could only grow to what a geometry can address, less than asked; such a
   * disk becomes creator "tap" version 1.0, whose size is the current size and which promises no
   * batmap.
   */
  public VhdFooter withCurrentSize(long sizeBytes) {
    Geometry g = Geometry.forSize(sizeBytes);
    boolean geometrySized = virtualSize(creatorApp, g, sizeBytes) != sizeBytes;
    return new VhdFooter(
        features,
        fileFormatVersion,
        dataOffset,
        timestamp,
        geometrySized ? CREATOR_TAP : creatorApp,
        geometrySized ? 0x00010000 : creatorVersion,
        creatorHostOs,
        sizeBytes,
        sizeBytes,
        g,
        diskType,
        uuid,
        savedState,
        hidden);
  }

  /** Encodes the footer, computing its checksum. */
  public byte[] encode() {
    byte[] b = new byte[SIZE];
    System.arraycopy(COOKIE, 0, b, 0, 8);
    Be.put32(b, 8, features);
    Be.put32(b, 12, fileFormatVersion);
    Be.put64(b, 16, dataOffset);
    Be.put32(b, 24, (int) timestamp);
    byte[] app = creatorApp.getBytes(StandardCharsets.ISO_8859_1);
    System.arraycopy(app, 0, b, 28, Math.min(4, app.length));
    Be.put32(b, 32, creatorVersion);
    Be.put32(b, 36, creatorHostOs);
    Be.put64(b, 40, originalSizeBytes);
    Be.put64(b, 48, currentSizeBytes);
    Be.put16(b, 56, geometry.cylinders());
    b[58] = (byte) geometry.heads();
    b[59] = (byte) geometry.sectorsPerTrack();
    Be.put32(b, 60, diskType.code());
    Be.putUuid(b, 68, uuid);
    b[84] = (byte) savedState;
    b[85] = (byte) (hidden ? 1 : 0);
    Be.put32(b, 64, Be.checksum(b, 0, SIZE, 64));
    return b;
  }

  /**
   * Decodes and validates a footer.
   *
   * @param what where the bytes came from, for messages ("footer in /sr/a.vhd")
   * @throws VhdFormatException naming the first check that fails
   */
  public static VhdFooter decode(byte[] b, String what) throws VhdFormatException {
    if (b == null || b.length != SIZE) {
      throw new VhdFormatException(
          "VHD %s: %s is %d bytes, not %d"
              .formatted(what, "footer", b == null ? 0 : b.length, SIZE));
    }
    Be.checkCookie(b, COOKIE, what);
    Be.checkChecksum(b, SIZE, 64, what);
    int features = Be.i32(b, 8);
    if ((features & FEATURE_RESERVED) == 0) {
      throw new VhdFormatException(
          "VHD " + what + ": features " + Be.hex(features) + " lack the reserved bit 0x2");
    }
    int version = Be.i32(b, 12);
    if (version != FORMAT_VERSION) {
      throw new VhdFormatException(
          "VHD " + what + ": unsupported file format version " + Be.hex(version));
    }
    int typeCode = Be.i32(b, 60);
    DiskType type = DiskType.ofCode(typeCode);
    if (type == null) {
      throw new VhdFormatException("VHD " + what + ": unsupported disk type " + typeCode);
    }
    long dataOffset = Be.i64(b, 16);
    if (type == DiskType.FIXED && dataOffset != -1L) {
      throw new VhdFormatException(
          "VHD "
              + what
              + ": fixed disk has data offset "
              + Be.hex(dataOffset)
              + ", expected 0xffffffffffffffff");
    }
    if (type != DiskType.FIXED && dataOffset != 512) {
      throw new VhdFormatException(
          "VHD "
              + what
              + ": dynamic header offset "
              + dataOffset
              + " is not supported, expected 512");
    }
    long current = Be.i64(b, 48);
    if (current <= 0 || current % 512 != 0 || current > MAX_SIZE_BYTES) {
      throw new VhdFormatException(
          "VHD "
              + what
              + ": current size "
              + current
              + " is not a multiple of 512 in 512.."
              + MAX_SIZE_BYTES);
    }
    Geometry g = new Geometry(Be.u16(b, 56), b[58] & 0xff, b[59] & 0xff);
    if (g.totalSectors() == 0 || g.heads() > 16) {
      throw new VhdFormatException("VHD " + what + ": invalid geometry " + g);
    }
    // qemu's force_size=on writes the maximal geometry whatever the size; it then means nothing.
    // Xen Orchestra's vhd-lib rounds the cylinders up, past the current size: for creators whose
    // size is the current size the geometry is advisory, so only a size it decides is checked.
    String creator = new String(b, 28, 4, StandardCharsets.ISO_8859_1);
    if (!geometryAdvisory(creator, g, current) && g.totalSectors() * 512 > current) {
      throw new VhdFormatException(
          "VHD "
              + what
              + ": geometry "
              + g
              + " addresses "
              + g.totalSectors() * 512
              + " bytes, more than the current size "
              + current);
    }
    UUID uuid = Be.uuid(b, 68);
    if (Be.isNil(uuid)) {
      throw new VhdFormatException("VHD " + what + ": UUID is all zero");
    }
    int saved = b[84] & 0xff;
    int hidden = b[85] & 0xff;
    if (saved > 1 || hidden > 1) {
      throw new VhdFormatException(
          "VHD " + what + ": saved-state " + saved + " / hidden " + hidden + " must be 0 or 1");
    }
    if (!Be.allZero(b, 86, SIZE)) {
      throw new VhdFormatException("VHD " + what + ": reserved bytes 86..511 are not zero");
    }
    return new VhdFooter(
        features,
        version,
        dataOffset,
        Be.u32(b, 24),
        new String(b, 28, 4, StandardCharsets.ISO_8859_1),
        Be.i32(b, 32),
        Be.i32(b, 36),
        Be.i64(b, 40),
        current,
        g,
        type,
        uuid,
        saved,
        hidden == 1);
  }
}
