package org.xsm.iscsi.array;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.xsm.iscsi.array.control.ControlServer;
import org.xsm.iscsi.array.pool.BlockPool;
import org.xsm.iscsi.array.scsi.ScsiCommands;
import org.xsm.iscsi.array.target.IscsiTarget;
import org.xsm.iscsi.array.target.TargetConfig;

/**
 * {@code ./xsm array}: runs the storage array (pool, iSCSI target, control API) until killed.
 * Prints one line {@code array ready: iscsi=HOST:PORT iqn=IQN control=http://HOST:PORT} once
 * serving. On SIGTERM it flushes and checkpoints; SIGKILL is safe too (the journal recovers).
 */
public final class ArrayMain {
  private static final Logger LOG = Logger.getLogger(ArrayMain.class.getName());

  private static final String USAGE =
      """
      usage: ./xsm array --user U --password P [options]
        --dir D                 pool directory (default ./xsm-array)
        --portal HOST:PORT      iSCSI portal (default 127.0.0.1:3260; port 0 picks a free one)
        --control HOST:PORT     control API (default 127.0.0.1:8787)
        --iqn IQN               target name (default %s)
        --user U --password P   HTTP Basic credentials of the control API (required)
        --chap-user U --chap-secret S   require one-way CHAP for normal sessions
        --capacity-gib N        pool capacity (default 64)
        --flush-interval-ms N   background flush period (default 1000)
      """
          .formatted(TargetConfig.DEFAULT_IQN);

  private ArrayMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("-h") || args[i].equals("--help")) {
        System.out.print(USAGE);
        return;
      }
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        fail("bad argument '" + args[i] + "'");
      }
      o.put(args[i].substring(2), args[++i]);
    }
    if (!o.containsKey("user") || !o.containsKey("password")) {
      fail("--user and --password are required (HTTP Basic credentials of the control API)");
    }
    if (o.containsKey("chap-user") != o.containsKey("chap-secret")) {
      fail("--chap-user and --chap-secret go together");
    }
    InetSocketAddress portal = address(o.getOrDefault("portal", "127.0.0.1:3260"));
    InetSocketAddress control = address(o.getOrDefault("control", "127.0.0.1:8787"));
    long capacity = Long.parseLong(o.getOrDefault("capacity-gib", "64")) << 30;
    long flushMs = Long.parseLong(o.getOrDefault("flush-interval-ms", "1000"));
    BlockPool pool = BlockPool.open(Path.of(o.getOrDefault("dir", "xsm-array")), capacity);
    TargetConfig cfg =
        new TargetConfig(
            o.getOrDefault("iqn", TargetConfig.DEFAULT_IQN),
            portal.getHostString(),
            portal.getPort(),
            o.get("chap-user"),
            o.get("chap-secret"));
    IscsiTarget target = IscsiTarget.start(cfg, new ScsiCommands(pool));
    ControlServer api =
        ControlServer.start(control, pool, cfg, target.port(), o.get("user"), o.get("password"));
    CountDownLatch stopped = new CountDownLatch(1);
    Thread flusher = new Thread(() -> flushLoop(pool, flushMs, stopped), "array-flush");
    flusher.setDaemon(true);
    flusher.start();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopped.countDown();
                  api.close();
                  try {
                    target.close();
                    pool.close();
                  } catch (IOException e) {
                    LOG.log(Level.SEVERE, "clean shutdown failed; the journal will recover", e);
                  }
                }));
    System.out.println(
        "array ready: iscsi="
            + cfg.host()
            + ":"
            + target.port()
            + " iqn="
            + cfg.iqn()
            + " control=http://"
            + control.getHostString()
            + ":"
            + api.port());
    System.out.flush();
    stopped.await();
  }

  // Bounds what a power cut can lose and recycles blocks released by unsynced writes.
  private static void flushLoop(BlockPool pool, long periodMs, CountDownLatch stopped) {
    try {
      while (!stopped.await(periodMs, java.util.concurrent.TimeUnit.MILLISECONDS)) {
        try {
          pool.flush();
        } catch (IOException e) {
          LOG.log(Level.SEVERE, "background flush failed", e);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon < 0) {
      fail("expected HOST:PORT, got '" + hostPort + "'");
    }
    return new InetSocketAddress(
        hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  private static void fail(String message) {
    System.err.println("array: " + message);
    System.err.print(USAGE);
    System.exit(2);
  }
}
