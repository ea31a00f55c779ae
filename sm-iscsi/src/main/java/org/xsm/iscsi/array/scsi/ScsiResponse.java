package org.xsm.iscsi.array.scsi;

/**
 * The outcome of one SCSI command: a status, the data for the initiator (for data-in commands,
 * {@code dataLength} bytes, which may differ from what the initiator expected: the transport
 * reports the residual) and sense data on CHECK CONDITION. For data-out commands {@code
 * outResidual} is the bytes received minus the bytes the command needed (negative: too few).
 */
public record ScsiResponse(int status, byte[] data, int dataLength, byte[] sense, int outResidual) {
  public static final int GOOD = 0x00;
  public static final int CHECK_CONDITION = 0x02;

  private static final byte[] NONE = new byte[0];

  public static ScsiResponse good() {
    return new ScsiResponse(GOOD, NONE, 0, null, 0);
  }

  public static ScsiResponse data(byte[] data, int length) {
    return new ScsiResponse(GOOD, data, length, null, 0);
  }

  public static ScsiResponse check(Sense sense) {
    return new ScsiResponse(CHECK_CONDITION, NONE, 0, sense.bytes(), 0);
  }
}
