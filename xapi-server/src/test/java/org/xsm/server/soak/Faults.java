package org.xsm.server.soak;

import java.util.Random;
import java.util.function.BooleanSupplier;
import org.xsm.iscsi.ArrayProcess;
import org.xsm.nfs.testing.GaneshaServer;

/**
 * The faults, one at a time at random moments: SIGKILL of the server (started again at once), of
 * nfs-ganesha and of the storage array (each restarted at once, on the same ports and storage). One
 * at a time, so that the server always starts with its storage up, as after a host's reboot.
 */
final class Faults implements Runnable {
  private final SoakServer server;
  private final GaneshaServer ganesha;
  private final StorageArray array;
  private final Stats stats;
  private final BooleanSupplier running;
  private final long meanGapMillis;
  private final Random random = new Random(7);
  private volatile Throwable failure;

  /** The array, restartable on its ports (a new process each time). */
  interface StorageArray {
    void killAndRestart() throws Exception;
  }

  Faults(
      SoakServer server,
      GaneshaServer ganesha,
      StorageArray array,
      Stats stats,
      BooleanSupplier running,
      long meanGapMillis) {
    this.server = server;
    this.ganesha = ganesha;
    this.array = array;
    this.stats = stats;
    this.running = running;
    this.meanGapMillis = meanGapMillis;
  }

  /** Why fault injection stopped early (a restart failed), or null. */
  Throwable failure() {
    return failure;
  }

  @Override
  public void run() {
    try {
      while (running.getAsBoolean()) {
        // The next fault at a random moment: the gap is uniform in [mean/2, 3 mean/2].
        Thread.sleep(meanGapMillis / 2 + (long) (random.nextDouble() * meanGapMillis));
        if (!running.getAsBoolean()) {
          return;
        }
        int r = random.nextInt(10);
        if (r < 6) {
          server.killAndRestart();
          stats.fault("server kill -9");
        } else if (r < 8) {
          ganesha.kill();
          // Started again in a later second, as a rebooted server is: nfs-ganesha's write verifier
          // follows its start time in whole seconds, and one restarted within the same second
          // answers with the same verifier, so no client can tell that its UNSTABLE writes were
          // lost (a limit of the server, not of the protocol; see sm-nfs's NfsFaultIT).
          Thread.sleep(1100);
          ganesha.restart();
          stats.fault("nfs-ganesha kill -9");
        } else {
          array.killAndRestart();
          stats.fault("array kill -9");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception | Error e) {
      failure = e;
    }
  }

  static StorageArray restartable(ArrayProcess[] holder, java.nio.file.Path dir) {
    return () -> {
      ArrayProcess old = holder[0];
      String portal = old.portal();
      int iscsiPort = Integer.parseInt(portal.substring(portal.lastIndexOf(':') + 1));
      java.net.URI control = java.net.URI.create(old.controlUrl());
      old.kill();
      holder[0] = ArrayProcess.start(dir, iscsiPort, control.getPort());
    };
  }
}
