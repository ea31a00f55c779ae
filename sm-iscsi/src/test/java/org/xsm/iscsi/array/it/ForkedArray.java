package org.xsm.iscsi.array.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xsm.iscsi.array.ArrayMain;

/**
 * The array as its own process ({@code ArrayMain}, as {@code ./xsm array} runs it), to be killed.
 */
final class ForkedArray implements AutoCloseable {
  private static final Pattern READY =
      Pattern.compile("array ready: iscsi=(\\S+) iqn=(\\S+) control=(\\S+)");

  final Process process;
  final String portal;
  final String control;
  private final HttpClient http = HttpClient.newHttpClient();

  private ForkedArray(Process process, String portal, String control) {
    this.process = process;
    this.portal = portal;
    this.control = control;
  }

  static ForkedArray start(Path dir) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ArrayMain.class.getName());
    cmd.addAll(
        List.of(
            "--dir",
            dir.toString(),
            "--portal",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
            "--user",
            "admin",
            "--password",
            "pw"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    String line;
    while ((line = r.readLine()) != null) {
      seen.append(line).append('\n');
      Matcher m = READY.matcher(line);
      if (m.find()) {
        Thread drain = new Thread(() -> drain(r), "forked-array-output");
        drain.setDaemon(true);
        drain.start();
        return new ForkedArray(p, m.group(1), m.group(3));
      }
    }
    p.destroyForcibly();
    throw new IOException("array did not start:\n" + seen);
  }

  private static void drain(BufferedReader r) {
    try {
      while (r.readLine() != null) {
        // keep the pipe empty so the child never blocks on output
      }
    } catch (IOException e) {
      // the child died: nothing more to read
    }
  }

  String url(int lun) {
    return "iscsi://" + portal + "/" + RunningArray.IQN + "/" + lun;
  }

  /** One control API call; returns the body, fails on a non-2xx status. */
  String call(String method, String path, String body) throws IOException, InterruptedException {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(control + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json")
            .header(
                "Authorization",
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString("admin:pw".getBytes(StandardCharsets.UTF_8)))
            .build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IOException(method + " " + path + " -> " + r.statusCode() + " " + r.body());
    }
    return r.body();
  }

  /** SIGKILL, as a crash. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the array flushes and checkpoints. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
