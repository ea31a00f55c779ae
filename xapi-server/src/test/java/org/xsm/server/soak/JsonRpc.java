package org.xsm.server.soak;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** XenAPI over JSON-RPC 2.0 on {@code /jsonrpc}, as Xen Orchestra's connector speaks it. */
final class JsonRpc implements Rpc {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final URI uri;
  private final AtomicLong ids = new AtomicLong();

  JsonRpc(URI base) {
    this.uri = base.resolve("/jsonrpc");
  }

  @Override
  public String protocol() {
    return "JSON-RPC";
  }

  @Override
  public String login(String password) throws Failure, IOException {
    return (String) call("session.login_with_password", "root", password, "2.21", "xsm-soak");
  }

  @Override
  public Object call(String method, Object... params) throws Failure, IOException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("jsonrpc", "2.0");
    body.put("method", method);
    body.put("params", List.of(params));
    body.put("id", ids.incrementAndGet());
    HttpResponse<byte[]> r;
    try {
      r =
          http.send(
              HttpRequest.newBuilder(uri)
                  .timeout(Duration.ofMinutes(5))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (r.statusCode() != 200) {
      throw new IOException("HTTP " + r.statusCode() + " for " + method);
    }
    Map<?, ?> answer = JSON.readValue(r.body(), Map.class);
    if (answer.get("error") instanceof Map<?, ?> error) {
      // xapi's form: the code as the message, its parameters as the data.
      List<String> description = new ArrayList<>();
      description.add(String.valueOf(error.get("message")));
      if (error.get("data") instanceof List<?> data) {
        for (Object o : data) {
          description.add(String.valueOf(o));
        }
      }
      throw new Failure(description);
    }
    return answer.get("result");
  }
}
