package org.xsm.server.nbd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** The client side of the NBD wire for raw-socket tests: what real clients do not let us show. */
final class NbdWire {
  private NbdWire() {}

  /** Handshake up to the transmission phase of {@code name}; returns its size. */
  static long handshake(DataInputStream in, DataOutputStream out, String name) throws IOException {
    greeting(in, out);
    option(out, Nbd.OPT_EXPORT_NAME, name.getBytes(StandardCharsets.UTF_8));
    long size = in.readLong();
    in.readShort();
    return size;
  }

  /** Reads the server's greeting and answers with fixed newstyle, no zeroes. */
  static void greeting(DataInputStream in, DataOutputStream out) throws IOException {
    in.readLong();
    in.readLong();
    in.readShort();
    out.writeInt(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
  }

  static void option(DataOutputStream out, int option, byte[] data) throws IOException {
    out.writeLong(Nbd.IHAVEOPT);
    out.writeInt(option);
    out.writeInt(data.length);
    out.write(data);
    out.flush();
  }

  static void request(DataOutputStream out, int type, long offset, int length) throws IOException {
    out.writeInt(Nbd.REQUEST_MAGIC);
    out.writeShort(0);
    out.writeShort(type);
    out.writeLong(42);
    out.writeLong(offset);
    out.writeInt(length);
    out.flush();
  }
}
