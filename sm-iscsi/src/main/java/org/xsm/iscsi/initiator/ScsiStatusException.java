package org.xsm.iscsi.initiator;

import java.io.IOException;

/**
 * A SCSI command completed with a status other than GOOD: the status, and for CHECK CONDITION the
 * decoded sense data. The message names the command and says what the target reported, e.g.
 * "READ(16) of LBA 2097152 on LUN 1 failed: ILLEGAL REQUEST: logical block address out of range".
 */
public class ScsiStatusException extends IOException {
  private static final long serialVersionUID = 1L;

  /** SCSI status codes (SAM-5). */
  public static final int GOOD = 0x00;

  public static final int CHECK_CONDITION = 0x02;
  public static final int BUSY = 0x08;
  public static final int RESERVATION_CONFLICT = 0x18;
  public static final int TASK_SET_FULL = 0x28;

  private final int status;
  private final transient SenseData sense;

  public ScsiStatusException(String what, int status, SenseData sense) {
    super(what + " failed: " + (sense != null ? sense.toString() : statusName(status)));
    this.status = status;
    this.sense = sense;
  }

  public int status() {
    return status;
  }

  /** The sense data, or null if the target sent none. */
  public SenseData sense() {
    return sense;
  }

  public boolean hasSense(int key, int asc) {
    return sense != null && sense.key() == key && sense.asc() == asc;
  }

  public boolean senseKey(int key) {
    return sense != null && sense.key() == key;
  }

  /** Whether repeating the command may succeed (busy, task set full, unit attention, not ready). */
  public boolean transientCondition() {
    return status == BUSY
        || status == TASK_SET_FULL
        || senseKey(SenseData.UNIT_ATTENTION)
        || (senseKey(SenseData.NOT_READY) && sense.asc() == 0x04 && sense.ascq() == 0x01)
        || senseKey(SenseData.ABORTED_COMMAND);
  }

  static String statusName(int status) {
    switch (status) {
      case GOOD:
        return "GOOD";
      case CHECK_CONDITION:
        return "CHECK CONDITION without sense data";
      case BUSY:
        return "BUSY";
      case RESERVATION_CONFLICT:
        return "RESERVATION CONFLICT";
      case TASK_SET_FULL:
        return "TASK SET FULL";
      default:
        return "SCSI status 0x" + Integer.toHexString(status);
    }
  }
}
