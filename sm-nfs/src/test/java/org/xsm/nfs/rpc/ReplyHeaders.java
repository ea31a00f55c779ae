package org.xsm.nfs.rpc;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Test access to the RPC reply-header decoder (for the fuzz target of the NFS client). */
public final class ReplyHeaders {
  private ReplyHeaders() {}

  /** The reply header after xid and message type; the reader is left at the results. */
  public static XdrReader parse(ByteBuffer reply) throws IOException {
    return RpcRecords.parseReplyHeader(new XdrReader(reply), "fuzz", "fuzz");
  }
}
