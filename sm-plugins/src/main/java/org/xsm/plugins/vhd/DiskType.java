package org.xsm.plugins.vhd;

/** The VHD disk types, with their on-disk codes (footer offset 60). */
public enum DiskType {
  FIXED(2),
  DYNAMIC(3),
  DIFFERENCING(4);

  private final int code;

  DiskType(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The type for a code, or null if the code names none. */
  static DiskType ofCode(int code) {
    for (DiskType t : values()) {
      if (t.code == code) {
        return t;
      }
    }
    return null;
  }
}
