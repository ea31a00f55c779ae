package org.xsm.plugins.vhd;

import java.nio.charset.StandardCharsets;

/**
 * One of the eight parent-locator entries of the dynamic header: where in the file the parent's
 * path is stored and how it is encoded.
 *
 * <p>Spec deviation: the specification counts {@code dataSpace} in sectors; blktap writes bytes
 * (512). Both readings are accepted: a value below 512 is taken as sectors.
 */
public record ParentLocator(int code, int dataSpace, int dataLength, long dataOffset) {
  /** Relative Windows path, UTF-16LE (".\\parent.vhd"). */
  public static final int W2RU = 0x57327275;

  /** Absolute Windows path, UTF-16LE; blktap writes the relative one here too. */
  public static final int W2KU = 0x57326b75;

  /** Mac OS X URL, UTF-8 ("file://./parent.vhd"). */
  public static final int MACX = 0x4d414358;

  static final int WI2R = 0x57693272;
  static final int WI2K = 0x5769326b;
  static final int MAC = 0x4d616320;
  static final ParentLocator NONE = new ParentLocator(0, 0, 0, 0);

  boolean isUsed() {
    return code != 0;
  }

  /** The space reserved for the locator data, in bytes. */
  long dataSpaceBytes() {
    return dataSpace < 512 ? (long) dataSpace * 512 : Integer.toUnsignedLong(dataSpace);
  }

  static boolean knownCode(int code) {
    return code == W2RU
        || code == W2KU
        || code == MACX
        || code == WI2R
        || code == WI2K
        || code == MAC;
  }

  static String codeName(int code) {
    byte[] b = new byte[4];
    Be.put32(b, 0, code);
    return new String(b, StandardCharsets.ISO_8859_1).replaceAll("[^ -~]", "?");
  }

  /** Encodes a parent file name as this locator type stores it. */
  static byte[] encodePath(int code, String parentName) {
    if (code == MACX) {
      return ("file://./" + parentName).getBytes(StandardCharsets.UTF_8);
    }
    return (".\\" + parentName).getBytes(StandardCharsets.UTF_16LE);
  }

  /**
   * The base name of the parent that locator data points to, or null if this locator type or its
   * data cannot be interpreted.
   */
  static String decodeBaseName(int code, byte[] data) {
    String path;
    if (code == MACX || code == MAC) {
      path = new String(data, StandardCharsets.UTF_8);
      if (path.startsWith("file://")) {
        path = path.substring("file://".length());
      }
    } else if (code == W2KU || code == W2RU) {
      path = new String(data, StandardCharsets.UTF_16LE);
    } else {
      return null;
    }
    int nul = path.indexOf('\0');
    if (nul >= 0) {
      path = path.substring(0, nul);
    }
    int slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
    return path.substring(slash + 1);
  }
}
