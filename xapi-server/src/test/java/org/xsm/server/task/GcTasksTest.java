package org.xsm.server.task;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Task;
import org.xsm.server.model.TaskStatus;
import org.xsm.server.model.Values;

/**
 * The crash-safety rule of GC task records: a coalesce task still pending when the server starts
 * lost its sampler with the old process, so it is marked failed in words; finished ones and other
 * tasks are left alone.
 */
@QuarkusTest
class GcTasksTest {
  @Inject Database db;
  @Inject GcTasks gcTasks;

  private Ref<Task> task(String name, TaskStatus status) {
    return db.create(
        Task.CLASS,
        Values.of(Task.CLASS)
            .with(Task.NAME_LABEL, name)
            .with(Task.STATUS, status)
            .with(Task.CREATED, Instant.now())
            .with(Task.PROGRESS, 0.4));
  }

  @Test
  void pendingCoalesceTasksFromBeforeAStartAreFailed() throws Exception {
    Ref<Task> stale = task(GcTasks.NAME, TaskStatus.PENDING);
    Ref<Task> done = task(GcTasks.NAME, TaskStatus.SUCCESS);
    Ref<Task> other = task("Async.VM.copy", TaskStatus.PENDING);

    gcTasks.failStale();

    assertThat(db.get(stale, Task.STATUS)).isEqualTo(TaskStatus.FAILURE);
    assertThat(db.get(stale, Task.ERROR_INFO))
        .isEqualTo(List.of("TASK_INTERRUPTED", "the server restarted"));
    assertThat(db.get(done, Task.STATUS)).isEqualTo(TaskStatus.SUCCESS);
    assertThat(db.get(other, Task.STATUS)).isEqualTo(TaskStatus.PENDING);
    for (Ref<Task> t : List.of(stale, done, other)) {
      db.destroy(Task.CLASS, t);
    }
  }
}
