package org.xsm.nfs;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.nfs.client.Mount3Client;
import org.xsm.nfs.client.Nfs3Client;
import org.xsm.nfs.client.NfsException;
import org.xsm.nfs.rpc.RpcException;

/**
 * The exports this process has mounted, one {@link NfsMount} (one connection) per server port,
 * export and options, kept for the life of the process as the kernel keeps a mount: connections
 * reconnect by themselves, and an idle one costs a socket. Also maps mount failures to SM errors.
 */
final class NfsMounts {
  private static final Map<String, NfsMount> MOUNTS = new ConcurrentHashMap<>();

  private NfsMounts() {}

  /**
   * The mount that {@code device_config} names ({@code server}, {@code serverpath}, {@code
   * nfsversion}, {@code options}).
   *
   * @throws SmException BAD_REQUEST for bad configuration, NFS_VERSION for a version other than 3,
   *     NFS_TARGET if no NFS service answers, NFS_MOUNT if the server refuses the export
   */
  static NfsMount mount(Map<String, String> dc) throws SmException {
    String server = required(dc, "server");
    String version = dc.getOrDefault("nfsversion", "3");
    if (!version.equals("3")) {
      throw new SmException(
          SmError.NFS_VERSION, "NFS version " + version + " is not supported (only 3)");
    }
    NfsOptions options = NfsOptions.parse(dc.get("options"));
    String exportPath = dc.get("serverpath");
    if (exportPath == null || exportPath.isBlank()) {
      throw new SmException(
          SmError.BAD_REQUEST,
          "device_config:serverpath is required; "
              + server
              + " exports "
              + exports(server, options));
    }
    InetSocketAddress nfsd;
    try {
      nfsd = NfsMount.nfsd(server, options);
    } catch (IOException e) {
      throw new SmException(
          SmError.NFS_TARGET, "no NFSv3 service on " + server + ": " + e.getMessage(), e);
    }
    String key = nfsd + "|" + exportPath + "|" + options;
    NfsMount m = MOUNTS.get(key);
    if (m != null) {
      return m;
    }
    synchronized (MOUNTS) {
      m = MOUNTS.get(key);
      if (m == null) {
        m = newMount(server, exportPath, options, nfsd);
        MOUNTS.put(key, m);
      }
      return m;
    }
  }

  private static NfsMount newMount(
      String server, String exportPath, NfsOptions options, InetSocketAddress nfsd)
      throws SmException {
    Nfs3Client client;
    try {
      client = Nfs3Client.connect(nfsd, options.rpc());
    } catch (IOException e) {
      throw new SmException(
          SmError.NFS_TARGET, "cannot reach the NFS service at " + nfsd + ": " + e.getMessage(), e);
    }
    try {
      return NfsMount.mount(client, server, exportPath, options);
    } catch (NfsException e) {
      client.close();
      throw new SmException(
          SmError.NFS_MOUNT,
          "cannot mount " + server + ":" + exportPath + ": " + e.getMessage(),
          e);
    } catch (IOException e) {
      client.close();
      throw failure(e, "mount of " + server + ":" + exportPath);
    }
  }

  private static String required(Map<String, String> dc, String key) throws SmException {
    String v = dc.get(key);
    if (v == null || v.isBlank()) {
      throw new SmException(SmError.BAD_REQUEST, "device_config:" + key + " is required");
    }
    return v;
  }

  private static List<String> exports(String server, NfsOptions options) throws SmException {
    try {
      return Mount3Client.exports(NfsMount.mountd(server, options), options.rpc());
    } catch (IOException e) {
      throw new SmException(
          SmError.NFS_TARGET, "cannot list the exports of " + server + ": " + e.getMessage(), e);
    }
  }

  /** An I/O failure talking to the server, as the SM error a caller sees. */
  static SmException failure(IOException e, String what) {
    if (e instanceof RpcException) {
      return new SmException(
          SmError.SR_UNAVAILABLE, what + ": NFS server not reachable: " + e.getMessage(), e);
    }
    return new SmException(SmError.SR_UNAVAILABLE, what + ": " + e.getMessage(), e);
  }
}
