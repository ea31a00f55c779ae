package org.xsm.iscsi.array.target;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.xsm.iscsi.array.pdu.Opcode;
import org.xsm.iscsi.array.pdu.Pdu;
import org.xsm.iscsi.array.pdu.TextParameters;
import org.xsm.iscsi.array.scsi.ScsiCommands;
import org.xsm.iscsi.array.scsi.ScsiResponse;

/**
 * One iSCSI connection (= one session: MaxConnections is 1), served by one thread: login, then full
 * feature phase. Commands run one at a time in CmdSN arrival order; a PDU that arrives while a
 * write waits for its Data-Out is queued and served next. Responses are buffered and flushed when
 * no more input is waiting, so a pipelining initiator gets them in batches.
 */
final class Connection implements Runnable {
  private static final Logger LOG = Logger.getLogger(Connection.class.getName());
  private static final int CMD_WINDOW = 128;
  private static final int MAX_WRITE_BYTES = 64 * 1024 * 1024;

  private final Socket socket;
  private final TargetConfig config;
  private final ScsiCommands scsi;
  private final Negotiation negotiation = new Negotiation();
  private final ArrayDeque<Pdu> queued = new ArrayDeque<>();
  private byte[] writeBuffer = new byte[0];
  private InputStream in;
  private OutputStream out;
  private int statSn;
  private int expCmdSn;
  private int nextTtt = 1;

  Connection(Socket socket, TargetConfig config, ScsiCommands scsi) {
    this.socket = socket;
    this.config = config;
    this.scsi = scsi;
  }

  @Override
  public void run() {
    try (socket) {
      socket.setTcpNoDelay(true);
      in = new BufferedInputStream(socket.getInputStream(), 256 * 1024);
      out = new BufferedOutputStream(socket.getOutputStream(), 256 * 1024);
      Login login = new Login(config, negotiation);
      if (!login(login)) {
        return;
      }
      serve(login.discovery());
    } catch (IOException e) {
      LOG.log(Level.FINE, "connection from " + socket.getRemoteSocketAddress() + " ended", e);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "connection from " + socket.getRemoteSocketAddress() + " failed", e);
    }
  }

  private boolean login(Login login) throws IOException {
    while (true) {
      Pdu req = Pdu.read(in, Negotiation.OUR_MAX_RECV_DATA_SEGMENT);
      if (req == null) {
        return false;
      }
      if (req.opcode() != Opcode.LOGIN) {
        return false; // anything but a login before full feature phase: drop the connection
      }
      expCmdSn = req.intAt(24);
      Pdu resp = login.respond(req);
      if (statSn == 0) {
        statSn = req.intAt(28);
      }
      sequence(resp, true);
      resp.write(out);
      out.flush();
      if (login.failed()) {
        return false;
      }
      if (login.done()) {
        return true;
      }
    }
  }

  private void serve(boolean discovery) throws IOException {
    while (true) {
      Pdu pdu = next();
      if (pdu == null) {
        return;
      }
      if (!pdu.immediate() && pdu.opcode() != Opcode.DATA_OUT && pdu.opcode() != Opcode.SNACK) {
        int cmdSn = pdu.intAt(24);
        if (cmdSn - expCmdSn < 0 || cmdSn - expCmdSn >= CMD_WINDOW) {
          continue; // outside the command window: silently ignored (RFC 7143 3.2.2.1)
        }
        if (cmdSn == expCmdSn) {
          expCmdSn++;
        }
      }
      switch (pdu.opcode()) {
        case Opcode.NOP_OUT -> nop(pdu);
        case Opcode.SCSI_COMMAND -> {
          if (discovery) {
            reject(pdu, 0x0b); // waiting for logout: discovery sessions carry no SCSI
          } else {
            command(pdu);
          }
        }
        case Opcode.TASK_MANAGEMENT -> taskManagement(pdu);
        case Opcode.TEXT -> text(pdu);
        case Opcode.LOGOUT -> {
          logout(pdu);
          return;
        }
        case Opcode.DATA_OUT -> {} // for a command already answered: nothing to do
        default -> reject(pdu, 0x05);
      }
      if (queued.isEmpty() && in.available() == 0) {
        out.flush();
      }
    }
  }

  private Pdu next() throws IOException {
    if (!queued.isEmpty()) {
      return queued.poll();
    }
    out.flush();
    return Pdu.read(in, Negotiation.OUR_MAX_RECV_DATA_SEGMENT);
  }

  private void command(Pdu cmd) throws IOException {
    int flags = cmd.flags();
    boolean write = (flags & 0x20) != 0;
    boolean read = (flags & 0x40) != 0;
    int expected = cmd.intAt(20);
    int lun = Pdu.decodeLun(cmd.lunField());
    byte[] cdb = new byte[16];
    System.arraycopy(cmd.header(), 32, cdb, 0, 16);
    byte[] data = new byte[0];
    int received = 0;
    if (write) {
      if (expected < 0 || expected > MAX_WRITE_BYTES) {
        reject(cmd, 0x09); // invalid PDU field
        return;
      }
      if (writeBuffer.length < expected) {
        writeBuffer = new byte[expected];
      }
      // Reused across commands: everything below reads only the first `received` bytes.
      data = writeBuffer;
      received = receiveData(cmd, data, expected, (flags & 0x80) == 0);
    }
    ScsiResponse r = scsi.execute(lun, cdb, data, received);
    LOG.finest(
        () ->
            String.format(
                "itt=%08x lun=%d cdb=%s status=%d",
                cmd.itt(), lun, java.util.HexFormat.of().formatHex(cdb), r.status()));
    if (r.status() == ScsiResponse.GOOD && read && expected > 0 && r.dataLength() > 0) {
      sendDataIn(cmd, r, expected);
      return;
    }
    Pdu resp = Pdu.create(Opcode.SCSI_RESPONSE);
    int residual = 0;
    int respFlags = 0x80;
    if (r.status() == ScsiResponse.GOOD) {
      if (write) {
        if (r.outResidual() > 0) {
          respFlags |= 0x02;
          residual = r.outResidual();
        } else if (r.outResidual() < 0) {
          respFlags |= 0x04;
          residual = -r.outResidual();
        }
      } else if (r.dataLength() > expected) {
        respFlags |= 0x04;
        residual = r.dataLength() - expected;
      } else if (read && r.dataLength() < expected) {
        respFlags |= 0x02;
        residual = expected - r.dataLength();
      }
    }
    resp.flags(respFlags).byteAt(3, r.status());
    resp.intAt(16, cmd.itt()).intAt(44, residual);
    if (r.sense() != null) {
      byte[] s = new byte[2 + r.sense().length];
      s[1] = (byte) r.sense().length;
      System.arraycopy(r.sense(), 0, s, 2, r.sense().length);
      resp.data(s, s.length);
    }
    sequence(resp, true);
    resp.write(out);
  }

  /**
   * Collects a write's data: immediate data, unsolicited Data-Out (if the command's F bit is
   * clear), then R2T-solicited bursts. Returns the byte count received.
   */
  private int receiveData(Pdu cmd, byte[] data, int expected, boolean unsolicited)
      throws IOException {
    int received = Math.min(cmd.dataLength(), expected);
    System.arraycopy(cmd.data(), 0, data, 0, received);
    if (unsolicited) {
      received = Math.max(received, dataOut(cmd, data, expected, Pdu.RESERVED_TAG));
    }
    int r2tSn = 0;
    while (received < expected) {
      int burst = Math.min(negotiation.maxBurst, expected - received);
      int ttt = nextTtt++;
      if (ttt == Pdu.RESERVED_TAG) {
        ttt = nextTtt++;
      }
      Pdu r2t = Pdu.create(Opcode.R2T).flags(0x80);
      r2t.longAt(8, cmd.lunField()).intAt(16, cmd.itt()).intAt(20, ttt);
      r2t.intAt(36, r2tSn++).intAt(40, received).intAt(44, burst);
      sequence(r2t, false);
      r2t.write(out);
      out.flush();
      int end = dataOut(cmd, data, expected, ttt);
      if (end <= received) {
        throw new IOException(
            "Data-Out burst for task 0x" + Integer.toHexString(cmd.itt()) + " carried no data");
      }
      received = end;
    }
    return received;
  }

  // Reads Data-Out PDUs of one sequence (to the F bit); queues unrelated PDUs.
  private int dataOut(Pdu cmd, byte[] data, int expected, int ttt) throws IOException {
    int high = 0;
    int dataSn = 0;
    while (true) {
      Pdu p = Pdu.readHeader(in, Negotiation.OUR_MAX_RECV_DATA_SEGMENT);
      if (p == null) {
        throw new IOException("connection closed while waiting for Data-Out");
      }
      if (p.opcode() != Opcode.DATA_OUT || p.itt() != cmd.itt()) {
        p.readData(in);
        queued.add(p);
        continue;
      }
      if (p.intAt(36) != dataSn++ || p.intAt(20) != ttt) {
        // ErrorRecoveryLevel 0: a sequence error ends the connection (RFC 7143 7.1.1).
        throw new IOException(
            "Data-Out out of sequence for task 0x" + Integer.toHexString(cmd.itt()));
      }
      int offset = p.intAt(40);
      int len = p.dataLength();
      if (offset < 0 || offset + len > expected) {
        throw new IOException(
            "Data-Out at " + offset + "+" + len + " beyond the " + expected + " expected bytes");
      }
      p.readDataInto(in, data, offset);
      high = Math.max(high, offset + len);
      if (p.finalBit()) {
        return high;
      }
    }
  }

  private void sendDataIn(Pdu cmd, ScsiResponse r, int expected) throws IOException {
    int total = Math.min(r.dataLength(), expected);
    int segment = negotiation.initiatorMaxRecvDataSegment;
    int dataSn = 0;
    int sent = 0;
    while (sent < total) {
      int n = Math.min(segment, total - sent);
      boolean last = sent + n == total;
      boolean burstEnd = last || (sent + n) % negotiation.maxBurst == 0;
      Pdu d = Pdu.create(Opcode.DATA_IN);
      int f = burstEnd ? 0x80 : 0;
      if (last) {
        f |= 0x01; // status in this PDU
        if (r.dataLength() > expected) {
          f |= 0x04;
          d.intAt(44, r.dataLength() - expected);
        } else if (r.dataLength() < expected) {
          f |= 0x02;
          d.intAt(44, expected - r.dataLength());
        }
      }
      d.flags(f).byteAt(3, r.status());
      d.intAt(16, cmd.itt()).intAt(20, Pdu.RESERVED_TAG).intAt(36, dataSn++).intAt(40, sent);
      byte[] chunk =
          sent == 0 && n == r.data().length
              ? r.data()
              : java.util.Arrays.copyOfRange(r.data(), sent, sent + n);
      d.data(chunk, n);
      sequence(d, last);
      d.write(out);
      sent += n;
    }
  }

  private void nop(Pdu p) throws IOException {
    if (p.itt() == Pdu.RESERVED_TAG) {
      return; // an answer to a target ping, or a bare CmdSN/ExpStatSN update
    }
    Pdu resp = Pdu.create(Opcode.NOP_IN).flags(0x80);
    resp.longAt(8, p.lunField()).intAt(16, p.itt()).intAt(20, Pdu.RESERVED_TAG);
    resp.data(p.data(), p.dataLength());
    sequence(resp, true);
    resp.write(out);
  }

  private void taskManagement(Pdu p) throws IOException {
    int function = p.flags() & 0x7f;
    // Commands run to completion one at a time, so no task is ever left to abort or reset.
    int response =
        switch (function) {
          case 1, 2, 3, 4, 5, 6, 7 -> 0;
          default -> 5;
        };
    Pdu resp = Pdu.create(Opcode.TASK_MANAGEMENT_RESPONSE).flags(0x80).byteAt(2, response);
    resp.intAt(16, p.itt());
    sequence(resp, true);
    resp.write(out);
  }

  private void text(Pdu p) throws IOException {
    Map<String, String> keys = TextParameters.parse(p.data(), p.dataLength());
    Map<String, String> answer = new LinkedHashMap<>();
    String st = keys.get("SendTargets");
    if (st != null && (st.equals("All") || st.equals(config.iqn()) || st.isEmpty())) {
      answer.put("TargetName", config.iqn());
      answer.put("TargetAddress", config.host() + ":" + IscsiTarget.portOf(socket) + ",1");
    }
    Pdu resp = Pdu.create(Opcode.TEXT_RESPONSE).flags(0x80);
    resp.intAt(16, p.itt()).intAt(20, Pdu.RESERVED_TAG);
    byte[] text = TextParameters.encode(answer);
    resp.data(text, text.length);
    sequence(resp, true);
    resp.write(out);
  }

  private void logout(Pdu p) throws IOException {
    Pdu resp = Pdu.create(Opcode.LOGOUT_RESPONSE).flags(0x80);
    resp.intAt(16, p.itt());
    sequence(resp, true);
    resp.write(out);
    out.flush();
  }

  private void reject(Pdu p, int reason) throws IOException {
    Pdu resp = Pdu.create(Opcode.REJECT).flags(0x80).byteAt(2, reason);
    resp.intAt(16, Pdu.RESERVED_TAG);
    resp.data(p.header().clone(), Pdu.BHS_LENGTH);
    sequence(resp, true);
    resp.write(out);
  }

  // StatSN (advanced for responses that carry status), ExpCmdSN and MaxCmdSN.
  private void sequence(Pdu p, boolean status) {
    p.intAt(24, statSn);
    if (status) {
      statSn++;
    }
    p.intAt(28, expCmdSn).intAt(32, expCmdSn + CMD_WINDOW - 1);
  }
}
