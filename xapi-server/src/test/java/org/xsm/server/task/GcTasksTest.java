package org.xsm.server.task;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.xsm.server.db.Database;

/**
 * The crash-safety rule of GC task records: a coalesce task still pending when the server starts
 * lost its sampler with the old process, so it is marked failed in words; finished ones and other
 * tasks are left alone.
 */
@QuarkusTest
class GcTasksTest {
  @Inject Database db;
  @Inject GcTasks gcTasks;

  private String task(String name, String status) {
    Map<String, Object> t = new HashMap<>();
    t.put("name_label", name);
    t.put("status", status);
    t.put("created", Instant.now());
    t.put("progress", 0.4);
    return db.create("task", t);
  }

  @Test
  void pendingCoalesceTasksFromBeforeAStartAreFailed() throws Exception {
    String stale = task(GcTasks.NAME, "pending");
    String done = task(GcTasks.NAME, "success");
    String other = task("Async.VM.copy", "pending");

    gcTasks.failStale();

    assertThat(db.field("task", stale, "status")).isEqualTo("failure");
    assertThat(db.field("task", stale, "error_info"))
        .isEqualTo(List.of("TASK_INTERRUPTED", "the server restarted"));
    assertThat(db.field("task", done, "status")).isEqualTo("success");
    assertThat(db.field("task", other, "status")).isEqualTo("pending");
    for (String t : List.of(stale, done, other)) {
      db.destroy("task", t);
    }
  }
}
