package org.xsm.server.task;

import io.quarkus.runtime.ShutdownEvent;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.xsm.api.Sr;
import org.xsm.server.db.Database;
import org.xsm.server.rpc.XenApiException;
import org.xsm.server.storage.StorageService;

/**
 * Task records for the garbage collectors' coalesces, so clients watch them like any long
 * operation: while an SR reports a running coalesce ({@link Sr#gcStepProgress()}), a pending task
 * {@code SR.gc_coalesce} (description: the SR's name) carries its progress, and ends in success
 * when the step ends. The collectors run inside the plugins, so this samples them every {@code
 * xsm.gc-task-poll-ms} (default 200 ms); a coalesce shorter than that may go unrecorded.
 *
 * <p>Crash safety: these records are bookkeeping only. A task left pending by a crash is one of the
 * stale tasks the next start marks failed (the coalesce itself is journalled on the SR).
 */
@ApplicationScoped
public class GcTasks {
  private static final Logger LOG = Logger.getLogger(GcTasks.class);
  static final String NAME = "SR.gc_coalesce";

  @Inject Database db;
  @Inject StorageService storage;
  @Inject Tasks tasks;

  @ConfigProperty(name = "xsm.gc-task-poll-ms", defaultValue = "200")
  long pollMs;

  /** SR reference to the task of its running coalesce. */
  private final Map<String, String> open = new ConcurrentHashMap<>();

  private ScheduledExecutorService poller;

  // After Bootstrap (default priority): the database must be loaded first.
  void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION + 600) StartupEvent ev) {
    failStale();
    poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "xsm-gc-tasks");
              t.setDaemon(true);
              return t;
            });
    poller.scheduleWithFixedDelay(this::sample, pollMs, pollMs, TimeUnit.MILLISECONDS);
  }

  void onStop(@Observes ShutdownEvent ev) {
    if (poller != null) {
      poller.shutdownNow();
    }
  }

  /** One look at every attached SR; never throws (the poller would stop). */
  void sample() {
    try {
      for (Map.Entry<String, Sr> e : storage.attachedSrs().entrySet()) {
        sample(e.getKey(), e.getValue().gcStepProgress());
      }
      for (String sr : List.copyOf(open.keySet())) {
        if (!storage.attachedSrs().containsKey(sr)) {
          sample(sr, -1);
        }
      }
    } catch (RuntimeException | XenApiException e) {
      LOG.warnf("recording GC progress failed: %s", e.toString());
    }
  }

  private void sample(String sr, double progress) throws XenApiException {
    String task = open.get(sr);
    if (progress >= 0) {
      if (task == null || !db.exists("task", task)) {
        Map<String, Object> t = new HashMap<>();
        t.put("name_label", NAME);
        t.put("name_description", db.exists("SR", sr) ? db.field("SR", sr, "name_label") : sr);
        t.put("created", Instant.now());
        t.put("status", "pending");
        t.put("progress", progress);
        task = db.create("task", t);
        open.put(sr, task);
      } else {
        tasks.setProgress(task, progress);
      }
    } else if (task != null) {
      open.remove(sr);
      if (db.exists("task", task)) {
        Map<String, Object> done = new HashMap<>();
        done.put("status", "success");
        done.put("progress", 1.0);
        done.put("finished", Instant.now());
        db.set("task", task, done);
      }
    }
  }

  /** Coalesce tasks still pending from before a restart: their sampler is gone. */
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
