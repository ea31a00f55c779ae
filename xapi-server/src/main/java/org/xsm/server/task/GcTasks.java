package org.xsm.server.task;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Task;
import org.xsm.server.model.TaskStatus;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.SrService;

/**
 * Task records for the garbage collectors' coalesces, so clients watch them like any long
 * operation: when an SR's collector starts a coalesce ({@link
 * org.xsm.api.Sr#setGcProgressListener}), a pending task {@code SR.gc_coalesce} (description: the
 * SR's name) appears, its {@code progress} follows the copy in steps of at least 1%, and it ends in
 * success when the step ends.
 *
 * <p>Crash safety: these records are bookkeeping only. A coalesce task still pending at a start
 * lost its collector with the old process; it is marked failed ({@code TASK_INTERRUPTED}). The
 * coalesce itself recovers from its journal on the SR.
 */
@ApplicationScoped
public class GcTasks {
  private static final Logger LOG = Logger.getLogger(GcTasks.class);
  static final String NAME = "SR.gc_coalesce";
  private static final double STEP = 0.01;

  @Inject Database db;
  @Inject SrService storage;
  @Inject Tasks tasks;

  /** The task of a running coalesce and the progress it last showed. */
  private static final class Open {
    final Ref<Task> task;
    double shown;

    Open(Ref<Task> task, double shown) {
      this.task = task;
      this.shown = shown;
    }
  }

  /** SR to its running coalesce. */
  private final Map<Ref<org.xsm.server.model.Sr>, Open> open = new HashMap<>();

  // After Bootstrap (default priority): the database must be loaded first.
  void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION + 600) StartupEvent ev) {
    failStale();
    storage.onAttach((ref, sr) -> sr.setGcProgressListener(f -> progress(ref, f)));
  }

  /** Called on a collector's thread; never throws into it. */
  synchronized void progress(Ref<org.xsm.server.model.Sr> sr, double fraction) {
    try {
      Open o = open.get(sr);
      if (fraction >= 0 && o == null) {
        String name =
            db.exists(org.xsm.server.model.Sr.CLASS, sr)
                ? db.get(sr, org.xsm.server.model.Sr.NAME_LABEL)
                : sr.value();
        Ref<Task> t = tasks.create(NAME, name);
        tasks.setProgress(t, fraction);
        open.put(sr, new Open(t, fraction));
      } else if (fraction >= 0 && fraction - o.shown >= STEP) {
        o.shown = fraction;
        tasks.setProgress(o.task, fraction);
      } else if (fraction < 0 && o != null) {
        open.remove(sr);
        tasks.succeed(o.task, "");
      }
    } catch (XenApiException | RuntimeException e) {
      LOG.warnf(e, "recording GC progress of SR %s failed", sr);
    }
  }

  /** Marks coalesce tasks still pending from before this start as failed. */
  void failStale() {
    for (Ref<Task> t : db.where(Task.NAME_LABEL, NAME)) {
      try {
        db.modify(
            Task.CLASS,
            t,
            r ->
                r.get(Task.STATUS) != TaskStatus.PENDING
                    ? null
                    : Values.of(Task.CLASS)
                        .with(Task.STATUS, TaskStatus.FAILURE)
                        .with(Task.ERROR_INFO, List.of("TASK_INTERRUPTED", "the server restarted"))
                        .with(Task.FINISHED, Instant.now()));
      } catch (XenApiException e) {
        LOG.debugf("task %s destroyed meanwhile: nothing to mark", t);
      }
    }
  }
}
