package org.xsm.iscsi.initiator;

import java.nio.ByteBuffer;

/**
 * Decoded SCSI sense data (SPC-4 section 4.5), fixed (0x70/0x71) or descriptor (0x72/0x73) format.
 *
 * @param key the sense key (0x0..0xF)
 * @param asc the additional sense code
 * @param ascq its qualifier
 */
public record SenseData(int key, int asc, int ascq) {
  public static final int NO_SENSE = 0x0;
  public static final int NOT_READY = 0x2;
  public static final int MEDIUM_ERROR = 0x3;
  public static final int HARDWARE_ERROR = 0x4;
  public static final int ILLEGAL_REQUEST = 0x5;
  public static final int UNIT_ATTENTION = 0x6;
  public static final int DATA_PROTECT = 0x7;
  public static final int ABORTED_COMMAND = 0xB;

  private static final String[] KEY_NAMES = {
    "NO SENSE",
    "RECOVERED ERROR",
    "NOT READY",
    "MEDIUM ERROR",
    "HARDWARE ERROR",
    "ILLEGAL REQUEST",
    "UNIT ATTENTION",
    "DATA PROTECT",
    "BLANK CHECK",
    "VENDOR SPECIFIC",
    "COPY ABORTED",
    "ABORTED COMMAND",
    "RESERVED",
    "VOLUME OVERFLOW",
    "MISCOMPARE",
    "COMPLETED"
  };

  /**
   * Decodes sense bytes.
   *
   * @throws IscsiException if they are too short or of an unknown response code
   */
  public static SenseData decode(ByteBuffer sense) throws IscsiException {
    ByteBuffer b = sense.slice();
    if (b.remaining() < 1) {
      throw new IscsiException("empty sense data");
    }
    int code = b.get(0) & 0x7f;
    if ((code == 0x70 || code == 0x71) && b.remaining() >= 14) {
      return new SenseData(b.get(2) & 0x0f, b.get(12) & 0xff, b.get(13) & 0xff);
    }
    if ((code == 0x70 || code == 0x71) && b.remaining() >= 3) {
      return new SenseData(b.get(2) & 0x0f, 0, 0);
    }
    if ((code == 0x72 || code == 0x73) && b.remaining() >= 4) {
      return new SenseData(b.get(1) & 0x0f, b.get(2) & 0xff, b.get(3) & 0xff);
    }
    throw new IscsiException(
        "sense data of response code 0x"
            + Integer.toHexString(code)
            + " and "
            + b.remaining()
            + " bytes cannot be decoded");
  }

  public String keyName() {
    return KEY_NAMES[key & 0xf];
  }

  /** The standard text of the additional sense code, where this initiator knows it. */
  public String description() {
    int code = (asc << 8) | ascq;
    switch (code) {
      case 0x0000:
        return "no additional sense information";
      case 0x0401:
        return "logical unit is in process of becoming ready";
      case 0x0402:
        return "logical unit not ready, initializing command required";
      case 0x0C00:
        return "write error";
      case 0x1100:
        return "unrecovered read error";
      case 0x1A00:
        return "parameter list length error";
      case 0x2000:
        return "invalid command operation code";
      case 0x2100:
        return "logical block address out of range";
      case 0x2400:
        return "invalid field in CDB";
      case 0x2500:
        return "logical unit not supported";
      case 0x2600:
        return "invalid field in parameter list";
      case 0x2700:
        return "write protected";
      case 0x2900:
        return "power on, reset, or bus device reset occurred";
      case 0x2A09:
        return "capacity data has changed";
      case 0x3F0E:
        return "reported LUNs data has changed";
      case 0x5500:
        return "system resource failure";
      case 0x2707:
        return "space allocation failed write protect";
      default:
        break;
    }
    if (asc == 0x04) {
      return "logical unit not ready";
    }
    if (asc == 0x29) {
      return "power on, reset, or bus device reset occurred";
    }
    return "additional sense 0x" + Integer.toHexString(asc) + "/0x" + Integer.toHexString(ascq);
  }

  @Override
  public String toString() {
    return keyName()
        + ": "
        + description()
        + String.format(" (sense key 0x%x, ASC 0x%02x, ASCQ 0x%02x)", key, asc, ascq);
  }
}
