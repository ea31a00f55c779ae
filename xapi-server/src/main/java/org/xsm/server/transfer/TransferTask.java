package org.xsm.server.transfer;

import java.util.List;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Task;
import org.xsm.server.model.TaskStatus;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiException;
import org.xsm.server.task.Tasks;

/**
 * The {@code task} record of an import or export, as xapi keeps one for its HTTP handlers: pending
 * with a {@code progress} updated as bytes move (at most every 1%), then success or failure with
 * {@code error_info}. A client may pass its own task ({@code task_id}), else one is created.
 */
public final class TransferTask {
  private final Tasks tasks;
  private final Ref<Task> ref;
  private double reported;

  private TransferTask(Tasks tasks, Ref<Task> ref) {
    this.tasks = tasks;
    this.ref = ref;
  }

  public static TransferTask start(Database db, Tasks tasks, String existing, String name)
      throws XenApiException {
    Ref<Task> ref = Ref.of(existing);
    if (!db.exists(Task.CLASS, ref)) {
      ref = tasks.create(name, "");
    }
    db.update(
        Task.CLASS,
        ref,
        Values.of(Task.CLASS).with(Task.STATUS, TaskStatus.PENDING).with(Task.PROGRESS, 0.0));
    return new TransferTask(tasks, ref);
  }

  public String ref() {
    return ref.value();
  }

  /** Progress as a fraction; written when it moved by 1% or more. */
  public void progress(double fraction) {
    double p = Math.min(1.0, Math.max(0.0, fraction));
    if (p - reported >= 0.01) {
      reported = p;
      tasks.setProgress(ref, p);
    }
  }

  public void success() {
    tasks.succeed(ref, "");
  }

  public void failure(String code, String message) {
    tasks.fail(ref, List.of(code, message));
  }
}
