package org.xsm.server.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.xsm.server.rpc.AuditTrail;
import org.xsm.server.rpc.CallContext;

/**
 * The audit trail: every write call, login attempt and refusal, and every HTTP transfer, one JSON
 * line each (time, user, role, source address, message, object references, outcome) in {@code
 * <data>/audit/audit.log}, rotated at {@value #ROTATE_BYTES} bytes keeping {@value #KEEP} old
 * files; the latest {@value #RECENT} entries are also kept in memory for the console (pool-admins
 * only). No parameter value other than an object reference is written, so no password or secret
 * reaches it. Lines are flushed to the file as they are written (not synced: the trail is a record,
 * not a journal).
 */
@ApplicationScoped
public class AuditLog implements AuditTrail {
  private static final Logger LOG = Logger.getLogger(AuditLog.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final long ROTATE_BYTES = 10L * 1024 * 1024;
  static final int KEEP = 5;
  static final int RECENT = 1000;

  /** One audited action. */
  public record Entry(
      String time,
      String user,
      String role,
      String source,
      String message,
      List<String> refs,
      String outcome) {}

  @ConfigProperty(name = "xsm.data-dir", defaultValue = "./xsm-data")
  String dataDir;

  private final ArrayDeque<Entry> recent = new ArrayDeque<>();
  private Writer out;
  private long size;

  private Path file() {
    return Path.of(dataDir, "audit", "audit.log");
  }

  @Override
  public void record(
      CallContext caller, String source, String message, List<String> refs, String outcome) {
    Entry e =
        new Entry(
            Instant.now().toString(),
            caller == null || caller.user() == null ? "" : caller.user(),
            caller == null || caller.role() == null ? "" : caller.role().wire(),
            source,
            message,
            List.copyOf(refs),
            outcome);
    append(e);
  }

  /** An HTTP transfer (import, export, blob...), audited like a call. */
  public void transfer(
      CallContext caller, String source, String action, List<String> refs, String outcome) {
    record(caller, source, "http/" + action, refs, outcome);
  }

  private synchronized void append(Entry e) {
    recent.addLast(e);
    if (recent.size() > RECENT) {
      recent.removeFirst();
    }
    try {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("time", e.time());
      m.put("user", e.user());
      m.put("role", e.role());
      m.put("source", e.source());
      m.put("message", e.message());
      m.put("refs", e.refs());
      m.put("outcome", e.outcome());
      byte[] line = (JSON.writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8);
      if (out == null) {
        open();
      }
      if (size + line.length > ROTATE_BYTES) {
        rotate();
      }
      out.write(new String(line, StandardCharsets.UTF_8));
      out.flush();
      size += line.length;
    } catch (IOException x) {
      LOG.errorf("cannot write the audit log %s: %s", file(), x.getMessage());
      out = null;
    }
  }

  private void open() throws IOException {
    Files.createDirectories(file().getParent());
    out =
        Files.newBufferedWriter(
            file(), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    size = Files.size(file());
  }

  /** audit.log -> audit.log.1 -> ... -> audit.log.KEEP (dropped). */
  private void rotate() throws IOException {
    out.close();
    Path f = file();
    Files.deleteIfExists(f.resolveSibling(f.getFileName() + "." + KEEP));
    for (int i = KEEP - 1; i >= 1; i--) {
      Path from = f.resolveSibling(f.getFileName() + "." + i);
      if (Files.exists(from)) {
        Files.move(
            from,
            f.resolveSibling(f.getFileName() + "." + (i + 1)),
            StandardCopyOption.ATOMIC_MOVE);
      }
    }
    Files.move(f, f.resolveSibling(f.getFileName() + ".1"), StandardCopyOption.ATOMIC_MOVE);
    open();
  }

  /** The latest entries, newest last. */
  public synchronized List<Entry> recent(int limit) {
    List<Entry> all = new ArrayList<>(recent);
    return all.subList(Math.max(0, all.size() - limit), all.size());
  }
}
