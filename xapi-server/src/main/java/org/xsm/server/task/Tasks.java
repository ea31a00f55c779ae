package org.xsm.server.task;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.DoubleConsumer;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Task;
import org.xsm.server.model.TaskStatus;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.AsyncCalls;
import org.xsm.server.rpc.CallContext;

/**
 * Task records and {@code Async.*} calls: each asynchronous call becomes a task (status pending,
 * then success with {@code result} = the XML-RPC value, or failure with {@code error_info}) and
 * runs on a worker thread. Long operations report progress into their task; imports, exports and
 * the garbage collector's coalesces keep tasks of their own through the same methods.
 */
@ApplicationScoped
public class Tasks implements AsyncCalls {
  private static final Logger LOG = Logger.getLogger(Tasks.class);

  /** Progress is written when it has moved by this much (each write is an event to clients). */
  private static final double PROGRESS_STEP = 0.01;

  @Inject Database db;
  @Inject HostService hosts;
  private final ExecutorService workers =
      Executors.newFixedThreadPool(
          8,
          r -> {
            Thread t = new Thread(r, "xapi-task");
            t.setDaemon(true);
            return t;
          });
  private final Map<Ref<Task>, Future<?>> running = new ConcurrentHashMap<>();

  /** A new pending task on this host. */
  public Ref<Task> create(String name, String description) {
    return db.create(
        Task.CLASS,
        Values.of(Task.CLASS)
            .with(Task.NAME_LABEL, name)
            .with(Task.NAME_DESCRIPTION, description)
            .with(Task.CREATED, Instant.now())
            .with(Task.STATUS, TaskStatus.PENDING)
            .with(Task.RESIDENT_ON, hosts.host()));
  }

  @Override
  public String runAsync(CallContext ctx, String name, Body body) {
    Ref<Task> ref = create(name, "");
    CallContext taskCtx = ctx.withTask(ref.value());
    running.put(
        ref,
        workers.submit(
            () -> {
              try {
                Object result = body.run(taskCtx);
                succeed(ref, TaskResults.encode(result));
              } catch (XenApiException e) {
                fail(ref, e.errorDescription());
              } finally {
                running.remove(ref);
              }
            }));
    return ref.value();
  }

  /** Ends a task in success (cancelled if a client cancelled it meanwhile). */
  public void succeed(Ref<Task> ref, String result) {
    finish(
        ref, Values.of(Task.CLASS).with(Task.STATUS, TaskStatus.SUCCESS).with(Task.RESULT, result));
  }

  /** Ends a task in failure with the error's description. */
  public void fail(Ref<Task> ref, List<String> errorInfo) {
    finish(
        ref,
        Values.of(Task.CLASS)
            .with(Task.STATUS, TaskStatus.FAILURE)
            .with(Task.ERROR_INFO, errorInfo));
  }

  private void finish(Ref<Task> ref, Values<Task> outcome) {
    outcome.with(Task.PROGRESS, 1.0).with(Task.FINISHED, Instant.now());
    try {
      db.modify(
          Task.CLASS,
          ref,
          t -> {
            if (t.get(Task.STATUS) == TaskStatus.CANCELLING) {
              outcome.with(Task.STATUS, TaskStatus.CANCELLED);
            }
            return outcome;
          });
    } catch (XenApiException e) {
      LOG.debugf("task %s was destroyed before it ended: nothing to record", ref);
    }
  }

  /**
   * Where a long operation reports how far it has got (0 to 1): the {@code progress} field of the
   * call's task, written when it has moved by at least 1%, so clients see it through {@code
   * event.from}; a no-op for synchronous calls.
   */
  public DoubleConsumer progress(CallContext ctx) {
    if (ctx.task() == null) {
      return f -> {};
    }
    Ref<Task> ref = Ref.of(ctx.task());
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
  public void setProgress(Ref<Task> ref, double fraction) {
    try {
      db.modify(
          Task.CLASS,
          ref,
          t ->
              t.get(Task.STATUS) == TaskStatus.PENDING
                  ? Values.of(Task.CLASS).with(Task.PROGRESS, fraction)
                  : null);
    } catch (XenApiException e) {
      LOG.debugf("task %s was destroyed: nobody is watching its progress", ref);
    }
  }

  /**
   * task.set_progress: a client's own task (made by task.create) reports how far it has got, as
   * xapi lets it; a value outside 0..1 is refused with INVALID_VALUE.
   */
  public void setProgressOf(Ref<Task> ref, double fraction) throws XenApiException {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new XenApiException(
          XenApiError.INVALID_VALUE, "value", fraction + " (progress is between 0 and 1)");
    }
    db.set(ref, Task.PROGRESS, fraction);
  }

  /** task.cancel: a pending task is marked cancelling (its operation ends as cancelled). */
  public void cancel(Ref<Task> ref) throws XenApiException {
    db.modify(
        Task.CLASS,
        ref,
        t ->
            t.get(Task.STATUS) == TaskStatus.PENDING
                ? Values.of(Task.CLASS).with(Task.STATUS, TaskStatus.CANCELLING)
                : null);
  }

  public void destroy(Ref<Task> ref) throws XenApiException {
    db.destroy(Task.CLASS, ref);
  }
}
