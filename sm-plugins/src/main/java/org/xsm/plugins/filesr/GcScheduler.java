package org.xsm.plugins.filesr;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.xsm.api.SmException;

/**
 * Runs an SR's garbage collector in the background, scheduled by work to do, not by silence.
 *
 * <ul>
 *   <li>A request ({@link #kick()}: a VDI delete, a scan, an attach) starts a pass {@link
 *       GcSettings#delayMillis()} later (1 s by default); further requests while one is pending
 *       never push it back, so an SR scanned every two seconds is collected as soon as an idle one.
 *       A request during a pass makes another pass follow it.
 *   <li>A pass runs until nothing is left it can do now; when it left work (a leaf written faster
 *       than it could be copied, a VDI changed under it, no space, an error) or the backlog it
 *       measured at its end is not empty, another pass follows {@link GcSettings#retryMillis()}
 *       later.
 *   <li>A pass yields to foreground operations at every step (see {@link GarbageCollector}); it
 *       never waits for the SR to be idle.
 * </ul>
 *
 * <p>{@code gc=false} disables it. {@link #stop()} aborts a running pass (SR detach) and waits for
 * it. Passes of different SRs run in parallel (a small shared pool), one at a time per SR.
 */
final class GcScheduler {
  private static final ScheduledExecutorService EXECUTOR =
      Executors.newScheduledThreadPool(
          4,
          r -> {
            Thread t = new Thread(r, "xsm-gc");
            t.setDaemon(true);
            return t;
          });

  private final FileSr sr;
  private final GcSettings settings;
  private final Consumer<String> log;
  private ScheduledFuture<?> next;
  private GarbageCollector running;
  private boolean again;
  private boolean stopped;
  private volatile String status = "idle";

  GcScheduler(FileSr sr, GcSettings settings, Consumer<String> log) {
    this.sr = sr;
    this.settings = settings;
    this.log = log;
  }

  boolean enabled() {
    return settings.enabled();
  }

  /** Asks for a pass: within the delay if none is pending, right after the running one if any. */
  synchronized void kick() {
    if (!settings.enabled() || stopped) {
      return;
    }
    if (running != null) {
      again = true;
    } else if (next == null) {
      schedule(settings.delayMillis());
    } else if (next.getDelay(TimeUnit.MILLISECONDS) > settings.delayMillis()) {
      // A retry after leftover work is pending: a new request does not wait behind it.
      next.cancel(false);
      schedule(settings.delayMillis());
    }
  }

  private void schedule(long delayMillis) {
    next = EXECUTOR.schedule(this::runInBackground, delayMillis, TimeUnit.MILLISECONDS);
  }

  private void runInBackground() {
    GarbageCollector gc;
    synchronized (this) {
      if (next != null && next.getDelay(TimeUnit.MILLISECONDS) > 0) {
        return; // replaced by an earlier one (kick) that has not run yet
      }
      next = null;
      if (running != null || stopped) {
        return;
      }
      gc = new GarbageCollector(sr, this::progress, true);
      running = gc;
      again = false;
    }
    boolean retry;
    try {
      GarbageCollector.GcReport r = gc.run();
      retry = r.leftWork() || !sr.gcBacklog().isEmpty();
    } catch (SmException | RuntimeException e) {
      progress("gc failed: " + e.getMessage());
      System.getLogger(GcScheduler.class.getName())
          .log(System.Logger.Level.WARNING, "garbage collection of SR " + sr.uuid() + " failed", e);
      retry = true;
    }
    synchronized (this) {
      running = null;
      notifyAll();
      if (!stopped && next == null) {
        if (again) {
          schedule(0);
        } else if (retry) {
          schedule(settings.retryMillis());
        }
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

  /** Cancels a scheduled pass and aborts a running one, waiting for it to stop. */
  synchronized void stop() {
    stopped = true;
    if (next != null) {
      next.cancel(false);
      next = null;
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
