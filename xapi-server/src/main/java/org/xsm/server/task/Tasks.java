package org.xsm.server.task;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.DoubleConsumer;
import org.xsm.server.db.Database;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcMethod;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.XenApiException;

/**
 * {@code Async.*} calls: each becomes a task record (status pending, then success with {@code
 * result} = the XML-RPC value, or failure with {@code error_info}) and runs on a worker thread.
 * {@code task.cancel} marks a pending task cancelling; {@code task.destroy} forgets it.
 */
@ApplicationScoped
public class Tasks implements RpcModule {
  @Inject Database db;
  private final ExecutorService workers =
      Executors.newFixedThreadPool(
          8,
          r -> {
            Thread t = new Thread(r, "xapi-task");
            t.setDaemon(true);
            return t;
          });
  private final Map<String, Future<?>> running = new ConcurrentHashMap<>();

  public String runAsync(CallContext ctx, String name, RpcMethod m, List<Object> args) {
    Map<String, Object> t = new HashMap<>();
    t.put("name_label", name);
    t.put("created", Instant.now());
    t.put("status", "pending");
    List<String> hosts = db.all("host");
    if (!hosts.isEmpty()) {
      t.put("resident_on", hosts.get(0));
    }
    String ref = db.create("task", t);
    CallContext taskCtx = new CallContext(ctx.session(), ctx.user(), ctx.readOnly(), ref);
    running.put(
        ref,
        workers.submit(
            () -> {
              Map<String, Object> done = new HashMap<>();
              try {
                Object result = Dispatcher.invoke(m, taskCtx, args);
                done.put("status", "success");
                done.put("result", TaskResults.encode(result));
              } catch (XenApiException e) {
                done.put("status", "failure");
                done.put("error_info", e.errorDescription());
              }
              done.put("progress", 1.0);
              done.put("finished", Instant.now());
              try {
                if (db.exists("task", ref)) {
                  if ("cancelling".equals(db.field("task", ref, "status"))) {
                    done.put("status", "cancelled");
                  }
                  db.set("task", ref, done);
                }
              } catch (XenApiException e) {
                // destroyed meanwhile: nothing to record
              } finally {
                running.remove(ref);
              }
            }));
    return ref;
  }

  /** Progress is written when it has moved by this much (each write is an event to clients). */
  private static final double PROGRESS_STEP = 0.01;

  /**
   * Where a long operation reports how far it has got (0 to 1): the {@code progress} field of the
   * call's task, written when it has moved by at least 1%, so clients see it through {@code
   * event.from}; a no-op for synchronous calls.
   */
  public DoubleConsumer progress(CallContext ctx) {
    String ref = ctx.task();
    if (ref == null) {
      return f -> {};
    }
    double[] last = {0};
    return f -> {
      double v = Math.max(0, Math.min(1, f));
      if (v - last[0] >= PROGRESS_STEP || (v == 1 && last[0] < 1)) {
        last[0] = v;
        setProgress(ref, v);
      }
    };
  }

  /** Sets a pending task's progress; does nothing once it has finished or been destroyed. */
  public void setProgress(String ref, double fraction) {
    try {
      if (db.exists("task", ref) && "pending".equals(db.field("task", ref, "status"))) {
        db.set("task", ref, "progress", fraction);
      }
    } catch (XenApiException e) {
      // destroyed between the check and the write: nobody is watching it any more
    }
  }

  @Override
  public void register(Dispatcher d) {
    d.register(
        "task.cancel",
        2,
        true,
        true,
        (ctx, a) -> {
          String ref = Params.str(a, 0);
          Object status = db.field("task", ref, "status");
          if ("pending".equals(status)) {
            db.set("task", ref, "status", "cancelling");
          }
          return "";
        });
    d.register(
        "task.destroy",
        2,
        true,
        true,
        (ctx, a) -> {
          db.destroy("task", Params.str(a, 0));
          return "";
        });
    d.register(
        "task.create",
        3,
        true,
        true,
        (ctx, a) -> {
          Map<String, Object> t = new HashMap<>();
          t.put("name_label", Params.str(a, 0));
          t.put("name_description", Params.str(a, 1));
          t.put("created", Instant.now());
          return db.create("task", t);
        });
  }
}
