package org.xsm.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The coverage report of issue 16: per class of the Java SDK 8.1.0 that a pool of this kind has,
 * how many of the SDK's messages the server answers ({@code system.listMethods}). Written to {@code
 * target/api-coverage.md} and printed. Every message not answered must be listed, with the reason,
 * in {@code api-coverage-unanswered.tsv}; a listed message that is answered fails too, so the list
 * stays true.
 */
@QuarkusTest
class ApiCoverageTest {
  /** SDK class name to wire class name, in report order. */
  static final Map<String, String> CLASSES = new LinkedHashMap<>();

  static {
    String[][] pairs = {
      {"Session", "session"},
      {"Task", "task"},
      {"Event", "event"},
      {"Pool", "pool"},
      {"Host", "host"},
      {"HostMetrics", "host_metrics"},
      {"SR", "SR"},
      {"PBD", "PBD"},
      {"VDI", "VDI"},
      {"VBD", "VBD"},
      {"VM", "VM"},
      {"VMMetrics", "VM_metrics"},
      {"VMGuestMetrics", "VM_guest_metrics"},
      {"VIF", "VIF"},
      {"Network", "network"},
      {"PIF", "PIF"},
      {"SM", "SM"},
      {"Message", "message"},
      {"Console", "console"},
      {"Blob", "blob"},
      {"PoolUpdate", "pool_update"},
      {"User", "user"},
      {"Role", "role"},
      {"Subject", "subject"},
      {"Secret", "secret"},
      {"VGPU", "VGPU"},
      {"VTPM", "VTPM"}
    };
    for (String[] p : pairs) {
      CLASSES.put(p[0], p[1]);
    }
  }

  @TestHTTPResource("/jsonrpc")
  URL jsonrpc;

  private Set<String> listMethods() throws Exception {
    String body = "{\"jsonrpc\":\"2.0\",\"method\":\"system.listMethods\",\"params\":[],\"id\":1}";
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(jsonrpc.toString()))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    JsonNode result = new ObjectMapper().readTree(r.body()).get("result");
    Set<String> out = new HashSet<>();
    result.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static Map<String, String> unansweredWithReasons() throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                ApiCoverageTest.class.getResourceAsStream("/api-coverage-unanswered.tsv"),
                StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] p = line.split("\t", 2);
        out.put(p[0].trim(), p.length > 1 ? p[1].trim() : "");
      }
    }
    return out;
  }

  @Test
  void atLeast95PercentOfTheSdkMessagesAnswer() throws Exception {
    Set<String> served = listMethods();
    Map<String, String> reasons = unansweredWithReasons();
    StringBuilder report = new StringBuilder();
    report.append("| class | SDK messages | answered | % | Async in SDK | Async answered |\n");
    report.append("|---|---:|---:|---:|---:|---:|\n");
    int total = 0;
    int answered = 0;
    int asyncTotal = 0;
    int asyncAnswered = 0;
    List<String> missing = new ArrayList<>();
    List<String> asyncMissing = new ArrayList<>();
    for (var e : CLASSES.entrySet()) {
      TreeSet<String> msgs = SdkMessages.of(e.getKey(), e.getValue());
      int n = 0;
      int a = 0;
      int an = 0;
      int aa = 0;
      for (String m : msgs) {
        if (m.startsWith("Async.")) {
          a++;
          if (served.contains(m.substring("Async.".length()))) {
            aa++;
          } else {
            asyncMissing.add(m.substring("Async.".length()));
          }
        } else {
          n++;
          if (served.contains(m)) {
            an++;
          } else {
            missing.add(m);
          }
        }
      }
      total += n;
      answered += an;
      asyncTotal += a;
      asyncAnswered += aa;
      report.append(
          String.format(
              "| %s | %d | %d | %.0f%% | %d | %d |%n",
              e.getValue(), n, an, 100.0 * an / Math.max(1, n), a, aa));
    }
    report.append(
        String.format(
            "| **all** | %d | %d | **%.1f%%** | %d | %d |%n%n",
            total, answered, 100.0 * answered / total, asyncTotal, asyncAnswered));
    report.append("Not answered, and why:\n\n");
    for (String m : missing) {
      report
          .append("- `")
          .append(m)
          .append("`: ")
          .append(reasons.getOrDefault(m, "?"))
          .append('\n');
    }
    Path out = Path.of("target", "api-coverage.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, report);
    System.out.println("API coverage against the Java SDK 8.1.0:\n" + report);

    assertThat(total).as("the SDK's messages were read").isGreaterThan(1000);
    assertThat(100.0 * answered / total).as("answered share").isGreaterThanOrEqualTo(95.0);
    assertThat(asyncMissing)
        .as("Async messages whose message is answered are answered too")
        .allMatch(reasons::containsKey);
    assertThat(missing).as("unanswered messages without a reason").allMatch(reasons::containsKey);
    assertThat(reasons.keySet())
        .as("listed as unanswered but answered")
        .allMatch(m -> !served.contains(m));
  }
}
