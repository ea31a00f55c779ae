package org.xsm.iscsi.array.scsi;

/**
 * Fixed-format sense data (SPC-4 4.5.3): response code 0x70, sense key, additional sense code and
 * qualifier. The constants are the conditions this target reports.
 */
public record Sense(int key, int asc, int ascq) {
  public static final int NO_SENSE = 0x0;
  public static final int MEDIUM_ERROR = 0x3;
  public static final int ILLEGAL_REQUEST = 0x5;
  public static final int DATA_PROTECT = 0x7;
  public static final int ABORTED_COMMAND = 0xb;

  public static final Sense INVALID_OPCODE = new Sense(ILLEGAL_REQUEST, 0x20, 0x00);
  public static final Sense LBA_OUT_OF_RANGE = new Sense(ILLEGAL_REQUEST, 0x21, 0x00);
  public static final Sense INVALID_FIELD_IN_CDB = new Sense(ILLEGAL_REQUEST, 0x24, 0x00);
  public static final Sense LUN_NOT_SUPPORTED = new Sense(ILLEGAL_REQUEST, 0x25, 0x00);
  public static final Sense INVALID_FIELD_IN_PARAMETERS = new Sense(ILLEGAL_REQUEST, 0x26, 0x00);
  public static final Sense PARAMETER_LIST_LENGTH_ERROR = new Sense(ILLEGAL_REQUEST, 0x1a, 0x00);
  public static final Sense SAVING_NOT_SUPPORTED = new Sense(ILLEGAL_REQUEST, 0x39, 0x00);
  public static final Sense WRITE_PROTECTED = new Sense(DATA_PROTECT, 0x27, 0x00);
  public static final Sense SPACE_ALLOCATION_FAILED = new Sense(DATA_PROTECT, 0x27, 0x07);
  public static final Sense WRITE_ERROR = new Sense(MEDIUM_ERROR, 0x0c, 0x00);
  public static final Sense READ_ERROR = new Sense(MEDIUM_ERROR, 0x11, 0x00);

  /** Length of {@link #bytes()}. */
  public static final int LENGTH = 18;

  /** The 18-byte fixed-format sense data. */
  public byte[] bytes() {
    byte[] b = new byte[LENGTH];
    b[0] = 0x70;
    b[2] = (byte) key;
    b[7] = LENGTH - 8;
    b[12] = (byte) asc;
    b[13] = (byte) ascq;
    return b;
  }

  /** Fixed-format sense with the sense-key-specific field pointing at a CDB byte and bit. */
  public byte[] bytesWithField(int cdbByte, int bit) {
    byte[] b = bytes();
    b[15] = (byte) (0x80 | 0x40 | 0x08 | (bit & 7));
    b[16] = (byte) (cdbByte >>> 8);
    b[17] = (byte) cdbByte;
    return b;
  }
}
