package org.xsm.server.transfer;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.db.Database;
import org.xsm.server.rpc.XenApiException;

/**
 * The {@code task} record of an import or export, as xapi keeps one for its HTTP handlers: pending
 * with a {@code progress} updated as bytes move (at most every 1%), then success or failure with
 * {@code error_info}. A client may pass its own task ({@code task_id}), else one is created.
 */
final class TransferTask {
  private final Database db;
  private final String ref;
  private double reported;

  private TransferTask(Database db, String ref) {
    this.db = db;
    this.ref = ref;
  }

  static TransferTask start(Database db, String existing, String name) throws XenApiException {
    String ref = existing;
    if (ref == null || !db.exists("task", ref)) {
      Map<String, Object> t = new HashMap<>();
      t.put("name_label", name);
      t.put("created", Instant.now());
      List<String> hosts = db.all("host");
      if (!hosts.isEmpty()) {
        t.put("resident_on", hosts.get(0));
      }
      ref = db.create("task", t);
    }
    Map<String, Object> f = new HashMap<>();
    f.put("status", "pending");
    f.put("progress", 0.0);
    db.set("task", ref, f);
    return new TransferTask(db, ref);
  }

  String ref() {
    return ref;
  }

  /** Progress as a fraction; written when it moved by 1% or more. */
  void progress(double fraction) {
    double p = Math.min(1.0, Math.max(0.0, fraction));
    if (p - reported >= 0.01) {
      reported = p;
      set(Map.of("progress", p));
    }
  }

  void success() {
    set(Map.of("status", "success", "progress", 1.0, "finished", Instant.now()));
  }

  void failure(String code, String message) {
    set(
        Map.of(
            "status", "failure", "error_info", List.of(code, message), "finished", Instant.now()));
  }

  private void set(Map<String, Object> f) {
    try {
      if (db.exists("task", ref)) {
        db.set("task", ref, new HashMap<>(f));
      }
    } catch (XenApiException e) {
      // The client destroyed the task meanwhile: nothing left to report to.
    }
  }
}
