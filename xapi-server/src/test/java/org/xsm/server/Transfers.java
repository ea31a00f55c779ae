package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Task;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * HTTP disk transfers as a client sees them: an upload is answered {@code 200} before its body is
 * read (as xapi's), so its outcome is its task's; {@link #put} passes a task and waits for it to
 * settle (polling its status, never sleeping a fixed time to win a race).
 */
final class Transfers {
  private static final long SETTLE_MILLIS = 60_000;

  /** {@link Upload#status()} when the server closed the connection before the client read it. */
  static final int CONNECTION_CLOSED = -1;

  private final Connection c;
  private final URL url;
  private final HttpClient http = HttpClient.newHttpClient();

  Transfers(Connection c, URL url) {
    this.c = c;
    this.url = url;
  }

  /** What an upload came to: the HTTP status and, once settled, the task's status and error. */
  record Upload(int status, Types.TaskStatusType task, List<String> errorInfo) {
    boolean succeeded() {
      return status == 200 && task == Types.TaskStatusType.SUCCESS;
    }

    /** The task's error as one line ("" on success). */
    String error() {
      return String.join(" ", errorInfo);
    }
  }

  URI uri(String path, VDI vdi, String more) throws Exception {
    String host = "localhost".equals(url.getHost()) ? "127.0.0.1" : url.getHost();
    return URI.create(
        "http://"
            + host
            + ":"
            + url.getPort()
            + path
            + "?session_id="
            + c.getSessionReference()
            + "&vdi="
            + vdi.toWireString()
            + more);
  }

  Upload put(VDI vdi, String format, byte[] body) throws Exception {
    return put(vdi, format, HttpRequest.BodyPublishers.ofByteArray(body));
  }

  Upload put(VDI vdi, String format, HttpRequest.BodyPublisher body) throws Exception {
    Task task = Task.create(c, "upload", "");
    int status;
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      uri(
                          "/import_raw_vdi",
                          vdi,
                          "&format=" + format + "&task_id=" + task.toWireString()))
                  .PUT(body)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return new Upload(r.statusCode(), Types.TaskStatusType.FAILURE, List.of(r.body()));
      }
      status = r.statusCode();
    } catch (java.io.IOException e) {
      // A failure found while the body still comes closes the connection (as xapi's): the task
      // says what went wrong.
      status = CONNECTION_CLOSED;
    }
    Types.TaskStatusType s = settle(task);
    return new Upload(status, s, List.copyOf(task.getErrorInfo(c)));
  }

  /** Waits until the task is no longer pending; fails the test after a minute. */
  Types.TaskStatusType settle(Task task) throws Exception {
    long deadline = System.currentTimeMillis() + SETTLE_MILLIS;
    Types.TaskStatusType s = task.getStatus(c);
    while (s == Types.TaskStatusType.PENDING && System.currentTimeMillis() < deadline) {
      Thread.sleep(25); // a poll interval: the loop ends on the state, not on time
      s = task.getStatus(c);
    }
    assertThat(s)
        .as("task %s settled within %d ms", task, SETTLE_MILLIS)
        .isNotEqualTo(Types.TaskStatusType.PENDING);
    return s;
  }

  byte[] get(VDI vdi, String format, String more) throws Exception {
    HttpResponse<byte[]> r =
        http.send(
            HttpRequest.newBuilder(uri("/export_raw_vdi", vdi, "&format=" + format + more))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    return r.body();
  }
}
