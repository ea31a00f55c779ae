package org.xsm.nfs.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import org.xsm.nfs.rpc.RpcClient;
import org.xsm.nfs.rpc.RpcException;
import org.xsm.nfs.rpc.RpcOptions;
import org.xsm.nfs.rpc.XdrWriter;

/** The portmapper (RFC 1833, program 100000 version 2): where an RPC program listens. */
public final class Portmapper {
  public static final int PROGRAM = 100000;
  public static final int PORT = 111;
  private static final int GETPORT = 3;
  private static final int TCP = 6;

  private Portmapper() {}

  /**
   * The TCP port of a program version on a host.
   *
   * @param portmapperPort where the portmapper listens (111 normally)
   * @throws RpcException if the program is not registered or the portmapper cannot be reached
   */
  public static int getPort(
      String host, int portmapperPort, int program, int version, RpcOptions options)
      throws IOException {
    try (RpcClient rpc =
        RpcClient.connect(new InetSocketAddress(host, portmapperPort), PROGRAM, 2, options)) {
      XdrWriter w = new XdrWriter(16);
      w.writeInt(program).writeInt(version).writeInt(TCP).writeInt(0);
      int port = rpc.call(GETPORT, w.toBuffer()).body().readInt();
      if (port <= 0 || port > 65535) {
        throw new RpcException(
            "program "
                + program
                + " v"
                + version
                + " is not registered with the portmapper on "
                + host);
      }
      return port;
    }
  }
}
