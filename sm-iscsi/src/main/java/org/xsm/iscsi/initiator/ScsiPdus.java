package org.xsm.iscsi.initiator;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * The PDUs that carry a SCSI command and its write data (RFC 7143 sections 11.3 and 11.7), and the
 * buffer and LUN helpers they need.
 */
final class ScsiPdus {
  private ScsiPdus() {}

  /**
   * The SCSI Command PDU of {@code task}: simple task attribute, R or W by direction, F unless
   * unsolicited Data-Out follows, the first {@code immediate} bytes of write data in its segment.
   */
  static Pdu command(
      Task task, int immediate, boolean unsolicitedFollows, int cmdSn, int expStatSn) {
    ScsiCommand command = task.command;
    Pdu pdu = Pdu.request(Pdu.SCSI_COMMAND, false);
    int flags = unsolicitedFollows ? 0 : 0x80;
    if (command.direction() == ScsiCommand.Direction.READ) {
      flags |= 0x40;
    } else if (command.direction() == ScsiCommand.Direction.WRITE) {
      flags |= 0x20;
    }
    pdu.flags(flags | 1);
    pdu.longAt(8, encodeLun(command.lun()));
    pdu.initiatorTaskTag(task.tag);
    pdu.intAt(20, command.expectedLength());
    pdu.intAt(24, cmdSn);
    pdu.intAt(28, expStatSn);
    pdu.bhs.put(32, command.cdb());
    if (immediate > 0) {
      pdu.data(slice(command.buffer(), 0, immediate));
    }
    return pdu;
  }

  /**
   * Writes one Data-Out sequence (bytes {@code offset..offset+length} of the task's buffer, in PDUs
   * of at most {@code maxSegment} bytes, DataSN from 0, F on the last); the caller holds the
   * connection's send lock.
   *
   * @param targetTransferTag the R2T's tag, or {@link Pdu#NO_TAG} for unsolicited data
   */
  static void writeDataOut(
      OutputStream out,
      Task task,
      int targetTransferTag,
      int offset,
      int length,
      int maxSegment,
      int expStatSn)
      throws IOException {
    int dataSn = 0;
    int end = offset + length;
    for (int at = offset; at < end; ) {
      int n = Math.min(end - at, maxSegment);
      Pdu pdu = Pdu.request(Pdu.DATA_OUT, false);
      pdu.flags(at + n == end ? 0x80 : 0);
      pdu.longAt(8, encodeLun(task.command.lun()));
      pdu.initiatorTaskTag(task.tag);
      pdu.intAt(20, targetTransferTag);
      pdu.intAt(28, expStatSn);
      pdu.intAt(36, dataSn++);
      pdu.intAt(40, at);
      pdu.data(slice(task.command.buffer(), at, n));
      pdu.writeTo(out);
      at += n;
    }
  }

  /** Bytes {@code offset..offset+length} of {@code buffer}'s remaining bytes, as a new buffer. */
  static ByteBuffer slice(ByteBuffer buffer, int offset, int length) {
    ByteBuffer b = buffer.duplicate();
    b.position(buffer.position() + offset);
    b.limit(buffer.position() + offset + length);
    return b.slice();
  }

  /** SAM LUN encoding: peripheral addressing below 256, flat space addressing up to 16383. */
  static long encodeLun(int lun) {
    if (lun < 0 || lun > 0x3fff) {
      throw new IllegalArgumentException("LUN " + lun + " is outside 0..16383");
    }
    if (lun < 256) {
      return ((long) lun) << 48;
    }
    return ((long) (0x4000 | lun)) << 48;
  }
}
