package org.xsm.nfs.client;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.xsm.nfs.rpc.ReplyHeaders;
import org.xsm.nfs.rpc.XdrReader;
import org.xsm.nfs.rpc.XdrWriter;

/**
 * A fuzz target for the NFS client's decoders (used by {@code ./bench/run fuzz}): an ONC RPC reply
 * header followed by what a GETATTR/LOOKUP reply holds (status, post-op attributes, a handle). Bad
 * input must end in an {@link IOException} (XDR or RPC), nothing else.
 */
public final class ReplyFuzzTarget {
  private ReplyFuzzTarget() {}

  /** Decodes one reply. */
  public static void decode(byte[] in) throws IOException {
    XdrReader r = ReplyHeaders.parse(ByteBuffer.wrap(in));
    int status = r.readInt();
    Nfs3Xdr.readPostOpAttr(r);
    if (status == 0) {
      Nfs3Xdr.readHandle(r);
      Nfs3Xdr.readFattr(r);
    }
  }

  /** Valid replies to start from. */
  public static List<byte[]> seeds() {
    List<byte[]> out = new ArrayList<>();
    for (int status : new int[] {0, 2, 70}) {
      XdrWriter w = new XdrWriter();
      w.writeInt(0); // MSG_ACCEPTED
      w.writeInt(0); // verifier AUTH_NONE
      w.writeOpaque(new byte[0]);
      w.writeInt(0); // SUCCESS
      w.writeInt(status);
      fattr(w, true);
      if (status == 0) {
        w.writeOpaque(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        fattr(w, false);
      }
      ByteBuffer b = w.toBuffer();
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      out.add(bytes);
    }
    return out;
  }

  private static void fattr(XdrWriter w, boolean optional) {
    if (optional) {
      w.writeInt(1); // attributes follow
    }
    w.writeInt(1); // NF3REG
    w.writeInt(0644);
    w.writeInt(1);
    w.writeInt(0);
    w.writeInt(0);
    w.writeLong(4096);
    w.writeLong(4096);
    w.writeInt(0);
    w.writeInt(0);
    w.writeLong(1);
    w.writeLong(42);
    for (int i = 0; i < 3; i++) {
      w.writeInt(1_700_000_000);
      w.writeInt(0);
    }
  }
}
