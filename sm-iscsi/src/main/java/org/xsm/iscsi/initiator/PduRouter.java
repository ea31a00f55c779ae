package org.xsm.iscsi.initiator;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The receiving side of a connection: routes each PDU from the target to its task by initiator task
 * tag, keeps the connection's sequence numbers up to date, and hands what must be answered (R2T,
 * NOP-In pings) to the connection's worker. Runs on the reader thread only. A PDU that breaks the
 * protocol throws, which ends the connection.
 */
final class PduRouter {
  private final IscsiConnection connection;
  private final Map<Integer, Task> tasks;
  private final Executor worker;

  PduRouter(IscsiConnection connection, Map<Integer, Task> tasks, Executor worker) {
    this.connection = connection;
    this.tasks = tasks;
    this.worker = worker;
  }

  /** Data-In goes straight into the reading task's buffer. */
  ByteBuffer dataInTarget(Pdu header, int length) {
    if (header.opcode() != Pdu.DATA_IN) {
      return null;
    }
    Task task = tasks.get(header.initiatorTaskTag());
    return task == null ? null : task.dataInTarget(header.intAt(40), length);
  }

  void dispatch(Pdu pdu) throws IOException {
    int op = pdu.opcode();
    if (op == Pdu.R2T
        || op == Pdu.NOP_IN
        || op == Pdu.SCSI_RESPONSE
        || op == Pdu.DATA_IN
        || op == Pdu.TEXT_RESPONSE
        || op == Pdu.LOGOUT_RESPONSE
        || op == Pdu.ASYNC_MESSAGE) {
      connection.window(pdu.intAt(28), pdu.intAt(32));
    }
    switch (op) {
      case Pdu.DATA_IN -> task(pdu).dataIn(pdu, connection);
      case Pdu.SCSI_RESPONSE -> task(pdu).response(pdu, connection);
      case Pdu.R2T -> {
        Task task = task(pdu);
        int ttt = pdu.intAt(20);
        int offset = pdu.intAt(40);
        int length = pdu.intAt(44);
        task.checkR2T(offset, length);
        worker.execute(() -> connection.answerR2T(task, ttt, offset, length));
      }
      case Pdu.NOP_IN -> {
        if (pdu.initiatorTaskTag() != Pdu.NO_TAG) {
          connection.statSn(pdu.intAt(24));
          task(pdu).complete(pdu);
        } else if (pdu.intAt(20) != Pdu.NO_TAG) {
          int ttt = pdu.intAt(20);
          worker.execute(() -> connection.answerNop(ttt));
        }
      }
      case Pdu.TEXT_RESPONSE, Pdu.LOGOUT_RESPONSE -> {
        connection.statSn(pdu.intAt(24));
        task(pdu).complete(pdu);
      }
      case Pdu.ASYNC_MESSAGE -> {
        connection.statSn(pdu.intAt(24));
        int event = pdu.byteAt(36);
        // Spec deviation: RFC 7143 11.9.1 wants a Logout for event 1 (target requests logout);
        // this initiator drops the connection instead, which the target must handle anyway, and
        // the session logs in again and reissues what was outstanding.
        if (event >= 1 && event <= 3) {
          throw new IscsiException(
              "target asked to end the connection (async event " + event + ")", true, null);
        }
      }
      case Pdu.REJECT -> {
        connection.statSn(pdu.intAt(24));
        int reason = pdu.byteAt(2);
        if (pdu.data.remaining() >= Pdu.BHS_LENGTH) {
          Task task = tasks.remove(pdu.data.getInt(pdu.data.position() + 16));
          if (task != null) {
            task.fail(
                new IscsiException(
                    String.format("target rejected the PDU (reason 0x%02x)", reason)));
            return;
          }
        }
        throw new IscsiException(String.format("target rejected a PDU (reason 0x%02x)", reason));
      }
      case Pdu.TASK_RESPONSE -> connection.statSn(pdu.intAt(24));
      default -> throw new IscsiException("target sent an unexpected " + pdu);
    }
  }

  private Task task(Pdu pdu) throws IscsiException {
    Task task = tasks.get(pdu.initiatorTaskTag());
    if (task == null) {
      throw new IscsiException("target sent " + pdu + " for no outstanding task");
    }
    return task;
  }
}
