package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.xsm.plugins.store.IoActions;

/**
 * Runs one step of a multi-disk operation for every disk at once, so that their {@code force()}
 * calls overlap: a journaling filesystem commits concurrent fsyncs together, so four disks cost
 * about one flush instead of four. Each task still does its own writes, force and rename in order;
 * the step returns when every task has, so a crash point after it means what it meant before.
 *
 * <p>Tasks run on behalf of the calling thread: if it keeps the SR's in-memory model ({@link
 * FileSr#managed}), so do they, and the {@link TrackedStore} does not count their changes as
 * foreign. Tasks must not touch the model itself.
 */
final class ParallelSteps {
  private static final ExecutorService POOL =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "xsm-sr-step");
            t.setDaemon(true);
            return t;
          });

  /** Set while a pool thread runs a task for a thread that keeps the model. */
  private static final ThreadLocal<Boolean> FOR_KEEPER = ThreadLocal.withInitial(() -> false);

  private ParallelSteps() {}

  /** One disk's part of a step. */
  interface Task<T> {
    void run(T item) throws IOException;
  }

  /** Whether the current thread runs a task for a thread that keeps the model. */
  static boolean forKeeper() {
    return FOR_KEEPER.get();
  }

  /**
   * Runs {@code task} for each item, in parallel when there are several, and waits for all. The
   * first failure is thrown after every task has ended (others added as suppressed).
   */
  static <T> void forEach(List<T> items, boolean keeper, Task<T> task) throws IOException {
    if (items.size() <= 1) {
      for (T item : items) {
        task.run(item);
      }
      return;
    }
    List<Future<?>> running = new ArrayList<>();
    for (T item : items) {
      running.add(
          POOL.submit(
              () -> {
                FOR_KEEPER.set(keeper);
                try {
                  task.run(item);
                  return null;
                } finally {
                  FOR_KEEPER.set(false);
                }
              }));
    }
    IOException first = null;
    for (Future<?> f : running) {
      try {
        f.get();
      } catch (ExecutionException e) {
        first =
            IoActions.merge(
                first,
                e.getCause() instanceof IOException x
                    ? x
                    : new IOException("a step of a multi-disk operation failed", e.getCause()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        first = IoActions.merge(first, new IOException("interrupted while waiting for a step", e));
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
