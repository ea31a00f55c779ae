package org.xsm.nfs.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.xsm.nfs.rpc.RpcClient;
import org.xsm.nfs.rpc.RpcOptions;
import org.xsm.nfs.rpc.XdrReader;
import org.xsm.nfs.rpc.XdrWriter;

/**
 * The MOUNT protocol version 3 (RFC 1813 appendix I): root handles of exports, and the export list.
 */
public final class Mount3Client {
  public static final int PROGRAM = 100005;
  public static final int VERSION = 3;
  private static final int MNT = 1;
  private static final int UMNT = 3;
  private static final int EXPORT = 5;
  private static final int AUTH_SYS = 1;

  private Mount3Client() {}

  private static RpcClient connect(InetSocketAddress mountd, RpcOptions options)
      throws IOException {
    return RpcClient.connect(mountd, PROGRAM, VERSION, options);
  }

  /**
   * MNT: the root file handle of an exported path.
   *
   * @throws NfsException with the mountstat3 if the server refuses (2 no such path, 13 access)
   */
  public static FileHandle mount(InetSocketAddress mountd, String path, RpcOptions options)
      throws IOException {
    try (RpcClient rpc = connect(mountd, options)) {
      XdrReader r = rpc.call(MNT, new XdrWriter(64).writeString(path).toBuffer()).body();
      int status = r.readInt();
      if (status != 0) {
        throw new NfsException(
            status,
            "MNT " + path + " refused by " + mountd + ": mountstat3 " + mountStatName(status));
      }
      FileHandle root = new FileHandle(r.readOpaque(64));
      int flavors = r.readInt();
      boolean sys = flavors == 0;
      for (int i = 0; i < flavors; i++) {
        sys |= r.readInt() == AUTH_SYS;
      }
      if (!sys) {
        throw new NfsException(13, "export " + path + " on " + mountd + " does not allow AUTH_SYS");
      }
      return root;
    }
  }

  /** UMNT: tells the server this client no longer uses the export (advisory in NFSv3). */
  public static void unmount(InetSocketAddress mountd, String path, RpcOptions options)
      throws IOException {
    try (RpcClient rpc = connect(mountd, options)) {
      rpc.call(UMNT, new XdrWriter(64).writeString(path).toBuffer());
    }
  }

  /** EXPORT: the paths the server exports. */
  public static List<String> exports(InetSocketAddress mountd, RpcOptions options)
      throws IOException {
    try (RpcClient rpc = connect(mountd, options)) {
      XdrReader r = rpc.call(EXPORT).body();
      List<String> out = new ArrayList<>();
      while (r.readBoolean()) {
        out.add(r.readString());
        while (r.readBoolean()) {
          r.readString(); // group allowed to mount it
        }
      }
      return out;
    }
  }

  private static String mountStatName(int status) {
    return switch (status) {
      case 1 -> "MNT3ERR_PERM";
      case 2 -> "MNT3ERR_NOENT";
      case 5 -> "MNT3ERR_IO";
      case 13 -> "MNT3ERR_ACCES";
      case 20 -> "MNT3ERR_NOTDIR";
      case 22 -> "MNT3ERR_INVAL";
      case 63 -> "MNT3ERR_NAMETOOLONG";
      case 10004 -> "MNT3ERR_NOTSUPP";
      case 10006 -> "MNT3ERR_SERVERFAULT";
      default -> String.valueOf(status);
    };
  }
}
