package org.xsm.server.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The fixed newstyle handshake and option haggling of one connection: ends with the chosen export
 * (transmission follows) or with null (the client aborted or must be dropped).
 *
 * <p>{@code NBD_OPT_LIST} answers with no names, since an export name is its access token. Unknown
 * options get {@code NBD_REP_ERR_UNSUP}, malformed ones {@code NBD_REP_ERR_INVALID}.
 */
final class NbdHandshake {
  private final NbdServer server;
  private final NbdConnection connection;
  private DataInputStream in;
  private DataOutputStream out;
  private boolean tlsStarted;
  private boolean noZeroes;
  boolean structured;
  boolean allocationContext;
  private String contextExport;

  NbdHandshake(
      NbdServer server, NbdConnection connection, DataInputStream in, DataOutputStream out) {
    this.server = server;
    this.connection = connection;
    this.in = in;
    this.out = out;
  }

  /**
   * Runs the handshake; the export chosen, or null to close the connection. The connection is
   * registered with the export (through {@link NbdConnection#open}) before the reply that starts
   * transmission is written, so an unexport from then on closes it.
   */
  NbdExport run() throws IOException {
    out.writeLong(Nbd.NBDMAGIC);
    out.writeLong(Nbd.IHAVEOPT);
    out.writeShort(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
    out.flush();
    int clientFlags = in.readInt();
    if ((clientFlags & ~(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)) != 0) {
      return null; // the spec: drop clients setting flags we did not offer
    }
    noZeroes = (clientFlags & Nbd.FLAG_NO_ZEROES) != 0;
    while (true) {
      if (in.readLong() != Nbd.IHAVEOPT) {
        return null;
      }
      int option = in.readInt();
      int length = in.readInt();
      if (length < 0 || length > Nbd.MAX_OPTION_BYTES) {
        return null;
      }
      byte[] data = new byte[length];
      in.readFully(data);
      Outcome o = tlsGate(option, ByteBuffer.wrap(data));
      out.flush();
      if (o.done) {
        return o.export;
      }
    }
  }

  private record Outcome(boolean done, NbdExport export) {}

  private static final Outcome MORE = new Outcome(false, null);

  /** The streams in use after the handshake (TLS ones if the client started TLS). */
  DataInputStream in() {
    return in;
  }

  DataOutputStream out() {
    return out;
  }

  /**
   * STARTTLS, and the rule that a server requiring TLS answers every other option but ABORT with
   * {@code NBD_REP_ERR_TLS_REQD} until TLS is on (and drops an {@code NBD_OPT_EXPORT_NAME}, which
   * has no error reply).
   */
  private Outcome tlsGate(int option, ByteBuffer data) throws IOException {
    if (option == Nbd.OPT_STARTTLS) {
      if (server.tlsContext() == null) {
        return error(option, Nbd.REP_ERR_UNSUP, "this server has no TLS");
      }
      if (tlsStarted || data.hasRemaining()) {
        return error(option, Nbd.REP_ERR_INVALID, "TLS is already on or the option has data");
      }
      reply(option, Nbd.REP_ACK, new byte[0]);
      out.flush();
      NbdConnection.Streams s = connection.startTls(server.tlsContext());
      in = s.in();
      out = s.out();
      tlsStarted = true;
      return MORE;
    }
    if (!tlsStarted && !server.plainAllowed() && option != Nbd.OPT_ABORT) {
      if (option == Nbd.OPT_EXPORT_NAME) {
        return new Outcome(true, null);
      }
      return error(option, Nbd.REP_ERR_TLS_REQD, "TLS is required: send NBD_OPT_STARTTLS first");
    }
    return option(option, data);
  }

  private Outcome option(int option, ByteBuffer data) throws IOException {
    switch (option) {
      case Nbd.OPT_EXPORT_NAME -> {
        NbdExport e = connection.open(utf8(data, data.remaining()));
        if (e == null) {
          return new Outcome(true, null); // the spec: no error reply exists here, just close
        }
        allocationContext = false; // contexts need NBD_OPT_GO
        out.writeLong(e.device().sizeBytes());
        out.writeShort(transmissionFlags(e.readOnly()));
        if (!noZeroes) {
          out.write(new byte[124]);
        }
        return new Outcome(true, e);
      }
      case Nbd.OPT_ABORT -> {
        reply(option, Nbd.REP_ACK, new byte[0]);
        return new Outcome(true, null);
      }
      case Nbd.OPT_LIST -> {
        if (data.hasRemaining()) {
          return error(option, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
        }
        reply(option, Nbd.REP_ACK, new byte[0]);
        return MORE;
      }
      case Nbd.OPT_INFO, Nbd.OPT_GO -> {
        return infoOrGo(option, data);
      }
      case Nbd.OPT_STRUCTURED_REPLY -> {
        if (data.hasRemaining()) {
          return error(option, Nbd.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
        }
        structured = true;
        reply(option, Nbd.REP_ACK, new byte[0]);
        return MORE;
      }
      case Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT -> {
        return metaContext(option, data);
      }
      default -> {
        return error(option, Nbd.REP_ERR_UNSUP, "option " + option + " is not supported");
      }
    }
  }

  private Outcome infoOrGo(int option, ByteBuffer data) throws IOException {
    if (data.remaining() < 4) {
      return error(option, Nbd.REP_ERR_INVALID, "option too short");
    }
    int nameLength = data.getInt();
    if (nameLength < 0 || nameLength > data.remaining() - 2) {
      return error(option, Nbd.REP_ERR_INVALID, "bad export name length");
    }
    String name = utf8(data, nameLength);
    int requests = data.getShort() & 0xffff;
    if (data.remaining() != 2 * requests) {
      return error(option, Nbd.REP_ERR_INVALID, "bad information request count");
    }
    // INFO only describes the export (attaching nothing); GO joins it before answering (run()).
    NbdExport e = null;
    NbdServer.Description d;
    if (option == Nbd.OPT_GO) {
      e = connection.open(name);
      d = e == null ? null : new NbdServer.Description(e.device().sizeBytes(), e.readOnly());
    } else {
      d = server.describe(name).orElse(null);
    }
    if (d == null) {
      return error(option, Nbd.REP_ERR_UNKNOWN, "no such export");
    }
    ByteBuffer info = ByteBuffer.allocate(12);
    info.putShort((short) Nbd.INFO_EXPORT).putLong(d.sizeBytes());
    info.putShort((short) transmissionFlags(d.readOnly()));
    reply(option, Nbd.REP_INFO, info.array());
    ByteBuffer sizes = ByteBuffer.allocate(14);
    sizes.putShort((short) Nbd.INFO_BLOCK_SIZE).putInt(1).putInt(4096);
    sizes.putInt(Nbd.MAX_PAYLOAD_BYTES);
    reply(option, Nbd.REP_INFO, sizes.array());
    reply(option, Nbd.REP_ACK, new byte[0]);
    if (option == Nbd.OPT_INFO) {
      return MORE;
    }
    if (contextExport != null && !contextExport.equals(name)) {
      allocationContext = false; // contexts were chosen for another export
    }
    return new Outcome(true, e);
  }

  private Outcome metaContext(int option, ByteBuffer data) throws IOException {
    if (!structured) {
      return error(option, Nbd.REP_ERR_INVALID, "negotiate structured replies first");
    }
    if (data.remaining() < 8) {
      return error(option, Nbd.REP_ERR_INVALID, "option too short");
    }
    int nameLength = data.getInt();
    if (nameLength < 0 || nameLength > data.remaining() - 4) {
      return error(option, Nbd.REP_ERR_INVALID, "bad export name length");
    }
    String name = utf8(data, nameLength);
    int queries = data.getInt();
    boolean match = option == Nbd.OPT_LIST_META_CONTEXT && queries == 0;
    for (int i = 0; i < queries; i++) {
      if (data.remaining() < 4) {
        return error(option, Nbd.REP_ERR_INVALID, "query list too short");
      }
      int len = data.getInt();
      if (len < 0 || len > data.remaining()) {
        return error(option, Nbd.REP_ERR_INVALID, "bad query length");
      }
      String q = utf8(data, len);
      match |=
          Nbd.BASE_ALLOCATION.equals(q)
              || (option == Nbd.OPT_LIST_META_CONTEXT && q.equals("base:"));
    }
    if (data.hasRemaining()) {
      return error(option, Nbd.REP_ERR_INVALID, "trailing bytes after the queries");
    }
    if (option == Nbd.OPT_SET_META_CONTEXT) {
      if (server.describe(name).isEmpty()) {
        return error(option, Nbd.REP_ERR_UNKNOWN, "no such export");
      }
      allocationContext = match;
      contextExport = name;
    }
    if (match) {
      byte[] n = Nbd.BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
      ByteBuffer r = ByteBuffer.allocate(4 + n.length).putInt(Nbd.BASE_ALLOCATION_ID).put(n);
      reply(option, Nbd.REP_META_CONTEXT, r.array());
    }
    reply(option, Nbd.REP_ACK, new byte[0]);
    return MORE;
  }

  int transmissionFlags(boolean readOnly) {
    int f =
        Nbd.TFLAG_HAS_FLAGS
            | Nbd.TFLAG_SEND_FLUSH
            | Nbd.TFLAG_SEND_FUA
            | Nbd.TFLAG_SEND_TRIM
            | Nbd.TFLAG_SEND_WRITE_ZEROES
            // One device behind every connection: a flush on one covers writes of all.
            | Nbd.TFLAG_CAN_MULTI_CONN;
    if (structured) {
      f |= Nbd.TFLAG_SEND_DF; // reads are never fragmented anyway
    }
    if (readOnly) {
      f |= Nbd.TFLAG_READ_ONLY;
    }
    return f;
  }

  private Outcome error(int option, int type, String message) throws IOException {
    reply(option, type, message.getBytes(StandardCharsets.UTF_8));
    return MORE;
  }

  private void reply(int option, int type, byte[] data) throws IOException {
    out.writeLong(Nbd.OPTION_REPLY_MAGIC);
    out.writeInt(option);
    out.writeInt(type);
    out.writeInt(data.length);
    out.write(data);
  }

  private static String utf8(ByteBuffer b, int length) throws EOFException {
    if (length > b.remaining()) {
      throw new EOFException("string past the end of the option");
    }
    byte[] s = new byte[length];
    b.get(s);
    return new String(s, StandardCharsets.UTF_8);
  }
}
