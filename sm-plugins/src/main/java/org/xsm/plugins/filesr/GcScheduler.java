package org.xsm.plugins.filesr;

import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs an SR's garbage collector in the background: each {@link #kick()} (after a VDI delete or a
 * scan) schedules a run after the quiet period, replacing a run not yet started. Configured by the
 * SR's {@code other_config}: {@code gc=false} disables it; {@code gc-quiet-period-ms} sets the
 * quiet period (default 5 minutes, as xapi). {@link #stop()} aborts a running collection (SR
 * detach) and waits for it.
 */
final class GcScheduler {
  static final long DEFAULT_QUIET_MS = 5 * 60 * 1000;
  private static final ScheduledExecutorService EXECUTOR =
      Executors.newScheduledThreadPool(
          1,
          r -> {
            Thread t = new Thread(r, "xsm-gc");
            t.setDaemon(true);
            return t;
          });

  private final FileSr sr;
  private final boolean enabled;
  private final long quietMs;
  private final Consumer<String> log;
  private ScheduledFuture<?> next;
  private GarbageCollector running;
  private volatile String status = "idle";
  private volatile GarbageCollector.GcReport last;

  GcScheduler(FileSr sr, Map<String, String> otherConfig, Consumer<String> log) {
    this.sr = sr;
    this.enabled = !"false".equalsIgnoreCase(otherConfig.getOrDefault("gc", "true"));
    this.quietMs =
        Long.parseLong(
            otherConfig.getOrDefault("gc-quiet-period-ms", Long.toString(DEFAULT_QUIET_MS)));
    this.log = log;
  }

  boolean enabled() {
    return enabled;
  }

  synchronized void kick() {
    if (!enabled) {
      return;
    }
    if (next != null) {
      next.cancel(false);
    }
    next = EXECUTOR.schedule(this::runInBackground, quietMs, TimeUnit.MILLISECONDS);
  }

  private void runInBackground() {
    GarbageCollector gc;
    synchronized (this) {
      if (running != null) {
        return;
      }
      gc = new GarbageCollector(sr, this::progress);
      running = gc;
    }
    try {
      last = gc.run();
    } catch (Exception e) {
      progress("gc failed: " + e.getMessage());
    } finally {
      synchronized (this) {
        running = null;
        notifyAll();
      }
    }
  }

  private void progress(String s) {
    status = s;
    log.accept(s);
  }

  /** Current activity, for operators. */
  String status() {
    return status;
  }

  /** The running coalesce's progress (0 to 1), or -1 when none runs. */
  synchronized double stepProgress() {
    return running == null ? -1 : running.stepProgress();
  }

  GarbageCollector.GcReport lastReport() {
    return last;
  }

  /** Cancels a scheduled run and aborts a running one, waiting for it to stop. */
  synchronized void stop() {
    if (next != null) {
      next.cancel(false);
    }
    if (running != null) {
      running.abort();
      while (running != null) {
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
