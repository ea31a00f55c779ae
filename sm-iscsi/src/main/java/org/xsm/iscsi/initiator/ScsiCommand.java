package org.xsm.iscsi.initiator;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One SCSI command to send: the CDB, the LUN, and the data buffer.
 *
 * @param name for messages, e.g. {@code "READ(16) of LBA 8 (16 blocks)"}
 * @param lun the logical unit number
 * @param cdb 6 to 16 bytes
 * @param direction which way data moves
 * @param buffer for READ the destination (its remaining bytes are the expected length), for WRITE
 *     the source, for NONE null
 */
public record ScsiCommand(
    String name, int lun, byte[] cdb, Direction direction, ByteBuffer buffer) {

  /** Which way the data of a command moves. */
  public enum Direction {
    NONE,
    READ,
    WRITE
  }

  public ScsiCommand {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(cdb, "cdb");
    Objects.requireNonNull(direction, "direction");
    if (cdb.length < 6 || cdb.length > 16) {
      throw new IllegalArgumentException("CDB of " + cdb.length + " bytes");
    }
    if ((direction == Direction.NONE) != (buffer == null)) {
      throw new IllegalArgumentException("a buffer goes with READ or WRITE, and only with them");
    }
  }

  /**
   * Whether the command must move exactly its expected length (block READ/WRITE): a residual then
   * means lost data, not a short answer (as INQUIRY or REPORT LUNS may give).
   */
  public boolean transfersExactly() {
    int op = cdb[0] & 0xff;
    return op == Cdbs.READ_10 || op == Cdbs.READ_16 || op == Cdbs.WRITE_10 || op == Cdbs.WRITE_16;
  }

  public int expectedLength() {
    return buffer == null ? 0 : buffer.remaining();
  }
}
