package org.xsm.nfs.rpc;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Record marking (RFC 5531 section 11) and reply headers, for {@link RpcClient}. */
final class RpcRecords {
  static final int MAX_RECORD = 80 << 20;

  private RpcRecords() {}

  static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new EOFException("connection closed by server");
      }
    }
  }

  /** Reads the further fragments of a record whose first fragment is in {@code record}. */
  static ByteBuffer moreFragments(SocketChannel ch, ByteBuffer record) throws IOException {
    ByteBuffer mark = ByteBuffer.allocate(4);
    while (true) {
      mark.clear();
      readFully(ch, mark);
      int m = mark.getInt(0);
      int len = m & 0x7fffffff;
      int have = record.position();
      if ((long) have + len > MAX_RECORD) {
        throw new RpcException("RPC record of " + ((long) have + len) + " bytes is too large");
      }
      record = ByteBuffer.allocate(have + len).put(record.flip());
      readFully(ch, record);
      if (m < 0) {
        return record.flip();
      }
    }
  }

  /** A call's name for messages, e.g. "NFS v3 procedure 7". */
  static String callName(int program, int version, int proc) {
    String p =
        switch (program) {
          case 100000 -> "portmapper";
          case 100003 -> "NFS";
          case 100005 -> "MOUNT";
          default -> "program " + program;
        };
    return p + " v" + version + " procedure " + proc;
  }

  /**
   * Reads the reply header after xid and message type, leaving {@code r} at the results.
   *
   * @throws RpcException for a denied call or an accept status other than SUCCESS
   */
  static XdrReader parseReplyHeader(XdrReader r, String callName, Object address)
      throws IOException {
    String call = callName + " at " + address;
    int replyStat = r.readInt();
    if (replyStat == 1) {
      int reject = r.readInt();
      if (reject == 0) {
        throw new RpcException(
            call + ": RPC version mismatch (" + r.readInt() + ".." + r.readInt() + ")");
      }
      throw new RpcException(call + ": authentication refused (auth_stat " + r.readInt() + ")");
    }
    if (replyStat != 0) {
      throw new RpcException(call + ": bad reply_stat " + replyStat);
    }
    r.readInt(); // verifier flavor
    r.readOpaque(400);
    int accept = r.readInt();
    switch (accept) {
      case 0:
        return r;
      case 1:
        throw new RpcException(call + ": program unavailable");
      case 2:
        throw new RpcException(
            call + ": program version mismatch (" + r.readInt() + ".." + r.readInt() + ")");
      case 3:
        throw new RpcException(call + ": procedure unavailable");
      case 4:
        throw new RpcException(call + ": server could not decode the arguments");
      default:
        throw new RpcException(call + ": server error (accept_stat " + accept + ")");
    }
  }
}
