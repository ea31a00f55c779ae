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
import org.xsm.api.Sr;
import org.xsm.server.db.Database;
import org.xsm.server.rpc.XenApiException;
import org.xsm.server.storage.StorageService;

/**
 * Task records for the garbage collectors' coalesces, so clients watch them like any long
 * operation: when an SR's collector starts a coalesce ({@link Sr#setGcProgressListener}), a pending
 * task {@code SR.gc_coalesce} (description: the SR's name) appears, its {@code progress} follows
 * the copy in steps of at least 1%, and it ends in success when the step ends.
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
  @Inject StorageService storage;
  @Inject Tasks tasks;

  /** The task of a running coalesce and the progress it last showed. */
  private static final class Open {
    final String task;
    double shown;

    Open(String task, double shown) {
      this.task = task;
      this.shown = shown;
    }
  }

  /** SR reference to its running coalesce. */
  private final Map<String, Open> open = new HashMap<>();

  // After Bootstrap (default priority): the database must be loaded first.
  void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION + 600) StartupEvent ev) {
    failStale();
    storage.onAttach((ref, sr) -> sr.setGcProgressListener(f -> progress(ref, f)));
  }

  /** Called on a collector's thread; never throws into it. */
  synchronized void progress(String sr, double fraction) {
    try {
      Open o = open.get(sr);
      if (fraction >= 0 && o == null) {
        Map<String, Object> t = new HashMap<>();
        t.put("name_label", NAME);
        t.put("name_description", db.exists("SR", sr) ? db.field("SR", sr, "name_label") : sr);
        t.put("created", Instant.now());
        t.put("status", "pending");
        t.put("progress", fraction);
        open.put(sr, new Open(db.create("task", t), fraction));
      } else if (fraction >= 0 && fraction - o.shown >= STEP) {
        o.shown = fraction;
        tasks.setProgress(o.task, fraction);
      } else if (fraction < 0 && o != null) {
        open.remove(sr);
        if (db.exists("task", o.task)) {
          Map<String, Object> done = new HashMap<>();
          done.put("status", "success");
          done.put("progress", 1.0);
          done.put("finished", Instant.now());
          db.set("task", o.task, done);
        }
      }
    } catch (XenApiException | RuntimeException e) {
      LOG.warnf("recording GC progress of SR %s failed: %s", sr, e.toString());
    }
  }

  /** Marks coalesce tasks still pending from before this start as failed. */
  void failStale() {
    for (String t : db.find("task", f -> NAME.equals(f.get("name_label")))) {
      try {
        if ("pending".equals(db.field("task", t, "status"))) {
          Map<String, Object> f = new HashMap<>();
          f.put("status", "failure");
          f.put("error_info", List.of("TASK_INTERRUPTED", "the server restarted"));
          f.put("finished", Instant.now());
          db.set("task", t, f);
        }
      } catch (XenApiException e) {
        // destroyed meanwhile: nothing to mark
      }
    }
  }
}
