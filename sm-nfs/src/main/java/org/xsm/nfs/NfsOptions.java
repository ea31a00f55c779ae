package org.xsm.nfs;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.nfs.rpc.RpcOptions;

/**
 * The NFS SR's {@code device_config:options}: comma-separated {@code key=value} pairs named like
 * Linux mount options, so an NFSSR configuration carries over.
 *
 * <ul>
 *   <li>{@code timeo} how long one RPC attempt waits, in tenths of a second (default 50 = 5 s)
 *   <li>{@code retrans} retransmissions before an operation fails (default 3); an operation on a
 *       server that is gone fails after {@code timeo * (retrans + 1)}, 20 s by default
 *   <li>{@code port} the NFS server's port, {@code mountport} its MOUNT port (default: ask the
 *       portmapper), {@code pmapport} the portmapper's port (default 111)
 *   <li>{@code proto=tcp}, {@code vers=3}, {@code hard}, {@code soft}: accepted for compatibility;
 *       only TCP and NFSv3 are spoken, and an operation always ends (soft semantics, bounded)
 * </ul>
 *
 * @param rpc timeouts and credentials for every call
 * @param nfsPort the NFS port, or 0 to ask the portmapper
 * @param mountPort the MOUNT port, or 0 to ask the portmapper
 * @param portmapperPort the portmapper's port
 */
public record NfsOptions(RpcOptions rpc, int nfsPort, int mountPort, int portmapperPort) {
  public static final NfsOptions DEFAULT = new NfsOptions(RpcOptions.DEFAULT, 0, 0, 111);

  /**
   * Parses an options string.
   *
   * @throws SmException {@link SmError#BAD_REQUEST} naming the bad option
   */
  public static NfsOptions parse(String options) throws SmException {
    Map<String, String> m = new TreeMap<>();
    if (options != null && !options.isBlank()) {
      for (String part : options.split(",")) {
        String p = part.trim();
        if (p.isEmpty()) {
          continue;
        }
        int eq = p.indexOf('=');
        m.put(eq < 0 ? p : p.substring(0, eq), eq < 0 ? "" : p.substring(eq + 1));
      }
    }
    long timeoDeciseconds = 50;
    int retrans = 3;
    int port = 0;
    int mountPort = 0;
    int pmapPort = 111;
    for (Map.Entry<String, String> e : m.entrySet()) {
      String k = e.getKey();
      String v = e.getValue();
      switch (k) {
        case "timeo" -> timeoDeciseconds = number(k, v, 1, 6000);
        case "retrans" -> retrans = (int) number(k, v, 0, 100);
        case "port" -> port = (int) number(k, v, 0, 65535);
        case "mountport" -> mountPort = (int) number(k, v, 0, 65535);
        case "pmapport" -> pmapPort = (int) number(k, v, 1, 65535);
        case "proto" -> require(k, v, "tcp");
        case "vers", "nfsvers" -> require(k, v, "3");
        case "hard", "soft", "intr", "nolock", "noac", "actimeo", "acdirmin", "acdirmax" -> {}
        default ->
            throw new SmException(
                SmError.BAD_REQUEST, "device_config:options: unknown NFS option '" + k + "'");
      }
    }
    RpcOptions rpc = new RpcOptions(Duration.ofMillis(timeoDeciseconds * 100), retrans, 0, 0);
    return new NfsOptions(rpc, port, mountPort, pmapPort);
  }

  private static long number(String key, String value, long min, long max) throws SmException {
    try {
      long n = Long.parseLong(value);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below with the range
    }
    throw new SmException(
        SmError.BAD_REQUEST,
        "device_config:options: " + key + "=" + value + " is not a number in " + min + ".." + max);
  }

  private static void require(String key, String value, String only) throws SmException {
    if (!value.equals(only)) {
      throw new SmException(
          SmError.BAD_REQUEST,
          "device_config:options: " + key + "=" + value + " is not supported (only " + only + ")");
    }
  }
}
