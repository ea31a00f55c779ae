package org.xsm.iscsi.initiator;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One outstanding exchange on a connection, found by its initiator task tag: a SCSI command, or a
 * text request, NOP-Out ping or logout. The reader thread fills it in; the submitter waits on
 * {@link #future}.
 */
final class Task {
  /**
   * How a task ended.
   *
   * @param status the SCSI status (0 for non-SCSI tasks)
   * @param sense decoded sense data, or null
   * @param residual bytes not transferred (underflow positive, overflow negative)
   * @param pdu the PDU that ended the task
   */
  record Outcome(int status, SenseData sense, int residual, Pdu pdu) {}

  final int tag;
  final ScsiCommand command;
  final long deadlineNanos;
  final CompletableFuture<Outcome> future = new CompletableFuture<>();

  Task(int tag, ScsiCommand command, long deadlineNanos) {
    this.tag = tag;
    this.command = command;
    this.deadlineNanos = deadlineNanos;
  }

  /** Copies a Data-In PDU into the command's buffer; completes on the status-carrying one. */
  void dataIn(Pdu pdu, IscsiConnection connection) throws IscsiException {
    if (command == null || command.direction() != ScsiCommand.Direction.READ) {
      throw new IscsiException("target sent Data-In for a task that reads nothing: " + pdu);
    }
    int offset = pdu.intAt(40);
    int length = pdu.dataSegmentLength();
    if (offset < 0 || offset + length > command.expectedLength() || offset + length < 0) {
      throw new IscsiException(
          "target sent Data-In for bytes "
              + offset
              + ".."
              + (offset + length)
              + " of a "
              + command.expectedLength()
              + "-byte read");
    }
    if (length > 0 && !pdu.delivered) {
      ByteBuffer dst = command.buffer().duplicate();
      dst.position(command.buffer().position() + offset);
      dst.put(pdu.data.duplicate());
    }
    if ((pdu.flags() & 0x01) != 0) {
      connection.finished(this, pdu.intAt(24));
      future.complete(new Outcome(pdu.byteAt(3), null, residual(pdu), pdu));
    }
  }

  /**
   * Where the data segment of a Data-In for bytes {@code offset..offset+length} of this read goes,
   * or null if the PDU is not one this task can take (the normal path then reports it).
   */
  ByteBuffer dataInTarget(int offset, int length) {
    if (command == null
        || command.direction() != ScsiCommand.Direction.READ
        || offset < 0
        || offset + length > command.expectedLength()
        || offset + length < 0) {
      return null;
    }
    return ScsiPdus.slice(command.buffer(), offset, length);
  }

  /** Handles the SCSI Response PDU: status, sense data, residual. */
  void response(Pdu pdu, IscsiConnection connection) throws IscsiException {
    connection.finished(this, pdu.intAt(24));
    int response = pdu.byteAt(2);
    if (response != 0) {
      future.completeExceptionally(
          new IscsiException(
              String.format(
                  "%s: target failure (iSCSI response 0x%02x)",
                  command == null ? "task" : command.name(), response)));
      return;
    }
    SenseData sense = null;
    ByteBuffer data = pdu.data;
    if (data.remaining() >= 2) {
      int senseLength = data.getShort(data.position()) & 0xffff;
      if (senseLength > 0 && senseLength <= data.remaining() - 2) {
        sense = SenseData.decode(ScsiPdus.slice(data, 2, senseLength));
      }
    }
    future.complete(new Outcome(pdu.byteAt(3), sense, residual(pdu), pdu));
  }

  private static int residual(Pdu pdu) {
    int flags = pdu.flags();
    if ((flags & 0x02) != 0) {
      return pdu.intAt(44);
    }
    if ((flags & 0x04) != 0) {
      return -pdu.intAt(44);
    }
    return 0;
  }

  void checkR2T(int offset, int length) throws IscsiException {
    if (command == null
        || command.direction() != ScsiCommand.Direction.WRITE
        || offset < 0
        || length <= 0
        || offset + length > command.expectedLength()
        || offset + length < 0) {
      throw new IscsiException(
          "target sent an R2T for bytes "
              + offset
              + "+"
              + length
              + " of a task that writes "
              + (command == null ? 0 : command.expectedLength()));
    }
  }

  void complete(Pdu pdu) {
    future.complete(new Outcome(0, null, 0, pdu));
  }

  void fail(IOException e) {
    future.completeExceptionally(e);
  }

  /** Waits for the outcome (the connection's watchdog bounds the wait). */
  Outcome await() throws IOException {
    return await(future);
  }

  static Outcome await(CompletableFuture<Outcome> future) throws IOException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the target");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IscsiException("initiator fault", false, e.getCause());
    }
  }
}
