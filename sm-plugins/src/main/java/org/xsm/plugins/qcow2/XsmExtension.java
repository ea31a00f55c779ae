package org.xsm.plugins.qcow2;

import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * The header extension in which xsm keeps what a VDI tree needs beyond the qcow2 format: the hidden
 * flag of a base copy and the image's identity, with the identity of the parent it was made over
 * (checked when a chain is opened, as VHD's parent UUID). Other tools keep unknown extensions (qemu
 * writes them back when it rewrites the header); files without it are not hidden and have no
 * identity.
 *
 * <p>Layout (40 bytes): version (1 byte, 1), flags (1 byte, bit 0 hidden), 6 reserved bytes, UUID
 * (16 bytes), parent UUID (16 bytes, all zero without parent).
 */
public record XsmExtension(boolean hidden, UUID uuid, UUID parentUuid) {
  /** "xsm1". */
  public static final int TYPE = 0x78736d31;

  static final UUID NIL = new UUID(0, 0);
  private static final int BYTES = 40;

  public XsmExtension withHidden(boolean h) {
    return new XsmExtension(h, uuid, parentUuid);
  }

  public XsmExtension withParent(UUID parent) {
    return new XsmExtension(hidden, uuid, parent);
  }

  static XsmExtension decode(byte[] data, String where) throws Qcow2FormatException {
    if (data.length != BYTES) {
      throw Qcow2Header.bad(
          where, "xsm header extension has " + data.length + " bytes, expected 40");
    }
    if (data[0] != 1) {
      throw Qcow2Header.bad(where, "xsm header extension version " + data[0] + " is not 1");
    }
    if ((data[1] & ~1) != 0) {
      throw Qcow2Header.bad(
          where, "xsm header extension has unknown flags 0x" + Integer.toHexString(data[1] & 0xff));
    }
    ByteBuffer b = ByteBuffer.wrap(data);
    return new XsmExtension(
        (data[1] & 1) != 0,
        new UUID(b.getLong(8), b.getLong(16)),
        new UUID(b.getLong(24), b.getLong(32)));
  }

  byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(BYTES);
    b.put((byte) 1).put((byte) (hidden ? 1 : 0)).position(8);
    b.putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
    b.putLong(parentUuid.getMostSignificantBits()).putLong(parentUuid.getLeastSignificantBits());
    return b.array();
  }
}
