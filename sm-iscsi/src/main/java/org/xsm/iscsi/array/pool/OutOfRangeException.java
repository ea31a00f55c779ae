package org.xsm.iscsi.array.pool;

/** An I/O range outside the LUN; SCSI reports LOGICAL BLOCK ADDRESS OUT OF RANGE. */
public final class OutOfRangeException extends RuntimeException {
  OutOfRangeException(String message) {
    super(message);
  }
}
