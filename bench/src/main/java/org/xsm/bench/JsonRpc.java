package org.xsm.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A minimal XenAPI JSON-RPC v2 client for benchmarks (no server class, no JSON library): writes
 * requests by hand, checks for an error member, and reads references and strings out of results.
 */
final class JsonRpc {
  private static final Pattern REF = Pattern.compile("OpaqueRef:[0-9a-f-]{36}");
  private static final Pattern STRING_RESULT = Pattern.compile("\"result\":\"([^\"]*)\"");
  private static final AtomicLong IDS = new AtomicLong();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String url;

  JsonRpc(String base) {
    this.url = base + "/jsonrpc";
  }

  /** Calls {@code method}; the whole response body, or an IOException naming the error. */
  String call(String method, Object... params) throws IOException, InterruptedException {
    StringBuilder b = new StringBuilder("{\"jsonrpc\":\"2.0\",\"method\":\"");
    b.append(method).append("\",\"params\":[");
    for (int i = 0; i < params.length; i++) {
      if (i > 0) {
        b.append(',');
      }
      json(b, params[i]);
    }
    b.append("],\"id\":").append(IDS.incrementAndGet()).append('}');
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(300))
            .POST(HttpRequest.BodyPublishers.ofString(b.toString(), StandardCharsets.UTF_8))
            .build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    String out = r.body();
    if (r.statusCode() != 200 || out.contains("\"error\":{") || !out.contains("\"result\":")) {
      throw new IOException(
          method
              + " failed ("
              + r.statusCode()
              + "): "
              + out.substring(0, Math.min(500, out.length())));
    }
    return out;
  }

  /** The first reference in a call's result. */
  String ref(String method, Object... params) throws IOException, InterruptedException {
    Matcher m = REF.matcher(call(method, params));
    if (!m.find()) {
      throw new IOException(method + " returned no reference");
    }
    return m.group();
  }

  /** A string result. */
  String string(String method, Object... params) throws IOException, InterruptedException {
    Matcher m = STRING_RESULT.matcher(call(method, params));
    if (!m.find()) {
      throw new IOException(method + " returned no string");
    }
    return m.group(1);
  }

  static List<String> refs(String body) {
    List<String> out = new ArrayList<>();
    Matcher m = REF.matcher(body);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  /** The HTTP body of a GET (metrics). */
  String get(String base, String path) throws IOException, InterruptedException {
    return http.send(
            HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** Appends {@code o} as JSON (maps, lists, booleans, numbers, strings without escapes). */
  static void json(StringBuilder b, Object o) {
    if (o instanceof Map<?, ?> m) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          b.append(',');
        }
        first = false;
        b.append('"').append(e.getKey()).append("\":");
        json(b, e.getValue());
      }
      b.append('}');
    } else if (o instanceof List<?> l) {
      b.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) {
          b.append(',');
        }
        json(b, l.get(i));
      }
      b.append(']');
    } else if (o instanceof Boolean || o instanceof Number) {
      b.append(o);
    } else {
      b.append('"').append(o).append('"'); // benchmarks send no characters that need escaping
    }
  }
}
