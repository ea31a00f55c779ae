package org.xsm.bench;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The packaged XenAPI server ({@code quarkus-run.jar}) as a child process of a benchmark: a fresh
 * data directory under {@code $XSM_BENCH_DIR}, root's password {@value #PASSWORD}, a free port; it
 * can be stopped and started again on the same data (restart measurements).
 */
final class ServerProcess implements AutoCloseable {
  static final String PASSWORD = "bench";

  private final Path jar;
  private final Map<String, String> env;
  private final Path data;
  private final Path log;
  private final int port;
  private Process server;
  private boolean keep;

  ServerProcess(String jar, Map<String, String> env) throws Exception {
    this.jar = Path.of(jar).toAbsolutePath();
    this.env = env;
    if (!Files.isRegularFile(this.jar)) {
      throw new IllegalStateException(
          this.jar + " is missing: mvn -B -q -pl xapi-server -am install -DskipTests");
    }
    Path root =
        Path.of(System.getenv().getOrDefault("XSM_BENCH_DIR", "bench/target/bench-data"))
            .toAbsolutePath();
    Files.createDirectories(root);
    data = Files.createTempDirectory(root, "server-");
    log = data.resolveSibling(data.getFileName() + ".log");
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
  }

  String base() {
    return "http://127.0.0.1:" + port;
  }

  long pid() {
    return server.pid();
  }

  Path data() {
    return data;
  }

  void keepData(boolean k) {
    keep = k;
  }

  /**
   * Starts the server and waits until it says it is ready.
   *
   * @return milliseconds from the process start to its ready line
   */
  long start() throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String opts = System.getenv().getOrDefault("XSM_JAVA_OPTS", "");
    if (!opts.isBlank()) {
      cmd.addAll(Arrays.asList(opts.trim().split("\\s+")));
    }
    cmd.add("-jar");
    cmd.add(jar.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    pb.environment().put("XSM_ROOT_PASSWORD", PASSWORD);
    pb.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
    pb.environment().put("XSM_DATA_DIR", data.toString());
    pb.environment().putIfAbsent("XSM_HTTPS_PORT", "0"); // free ports: nothing else in the way
    pb.environment().putIfAbsent("XSM_NBD_PORT", "0");
    // The benchmarks measure the server, not guests: simulated domains unless asked otherwise.
    pb.environment().putIfAbsent("XSM_DOMAINS", "simulator");
    Files.deleteIfExists(log);
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    long t0 = System.nanoTime();
    server = pb.start();
    long deadline = t0 + TimeUnit.SECONDS.toNanos(300);
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        throw new IllegalStateException("the server exited:\n" + Files.readString(log));
      }
      String l = Files.readString(log);
      if (l.contains("xsm XenAPI server ready") && l.contains("Listening on:")) {
        return (System.nanoTime() - t0) / 1_000_000;
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("the server did not start in 300 s:\n" + Files.readString(log));
  }

  /** Stops the server (SIGTERM, then SIGKILL after 30 s); the data stays. */
  void stop() throws Exception {
    if (server != null) {
      server.destroy();
      if (!server.waitFor(30, TimeUnit.SECONDS)) {
        server.destroyForcibly().waitFor();
      }
      server = null;
    }
  }

  /** Stops the server and deletes its data unless asked to keep it. */
  @Override
  public void close() throws Exception {
    stop();
    if (!keep) {
      try (Stream<Path> s = Files.walk(data)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
      Files.deleteIfExists(log);
    }
  }
}
