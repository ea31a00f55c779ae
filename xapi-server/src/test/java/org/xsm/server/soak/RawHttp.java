package org.xsm.server.soak;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * xapi's raw VDI handlers, as clients use them: {@code /import_raw_vdi}, {@code /export_raw_vdi}.
 */
final class RawHttp {
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final URI base;

  RawHttp(URI base) {
    this.base = base;
  }

  /**
   * Writes the whole VDI under {@code task}; a refusal before the import starts is a {@link
   * Rpc.Failure} with the server's code. As xapi's, the handler answers 200 before it reads the
   * body: whether the import happened is the task's outcome, which the caller reads.
   */
  void put(String session, String vdi, byte[] body, String task) throws Rpc.Failure, IOException {
    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(
                    base.resolve(
                        "/import_raw_vdi?session_id="
                            + session
                            + "&vdi="
                            + vdi
                            + "&format=raw&task_id="
                            + task))
                .timeout(Duration.ofMinutes(5))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw refused(r.statusCode(), r.body());
    }
  }

  /** The VDI's bytes. */
  byte[] get(String session, String vdi) throws Rpc.Failure, IOException {
    HttpResponse<byte[]> r =
        send(
            HttpRequest.newBuilder(uri("/export_raw_vdi", session, vdi))
                .timeout(Duration.ofMinutes(5))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw refused(r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
    }
    return r.body();
  }

  private URI uri(String path, String session, String vdi) {
    return base.resolve(path + "?session_id=" + session + "&vdi=" + vdi + "&format=raw");
  }

  private <T> HttpResponse<T> send(HttpRequest r, HttpResponse.BodyHandler<T> h)
      throws IOException {
    try {
      return http.send(r, h);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static Rpc.Failure refused(int status, String body) {
    String text = body == null ? "" : body.strip();
    String code = text.isEmpty() ? "HTTP_" + status : text.split("[\\s:]", 2)[0];
    return new Rpc.Failure(List.of(code, "HTTP " + status, text));
  }
}
