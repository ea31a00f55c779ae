package org.xsm.nfs.client;

import java.util.Arrays;
import java.util.HexFormat;

/** An NFSv3 file handle (nfs_fh3): opaque, at most 64 bytes, compared by content. */
public final class FileHandle {
  private final byte[] bytes;

  public FileHandle(byte[] bytes) {
    if (bytes.length == 0 || bytes.length > 64) {
      throw new IllegalArgumentException("NFSv3 file handle of " + bytes.length + " bytes");
    }
    this.bytes = bytes.clone();
  }

  public byte[] bytes() {
    return bytes.clone();
  }

  byte[] raw() {
    return bytes;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FileHandle f && Arrays.equals(bytes, f.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "fh:" + HexFormat.of().formatHex(bytes);
  }
}
