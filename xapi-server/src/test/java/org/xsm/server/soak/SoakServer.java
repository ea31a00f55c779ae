package org.xsm.server.soak;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The packaged server under soak: started on a data directory and a port that stay the same across
 * its kills (SIGKILL: no shutdown hook, no flush) and restarts. Workers wait for it to be up again
 * ({@link #awaitUp}) instead of polling it.
 */
final class SoakServer implements AutoCloseable {
  static final String PASSWORD = "xsm-soak-root";

  private final Path data;
  private final Path logs;
  private final int port;
  private Process process;
  private int starts;
  private boolean up;

  SoakServer(Path data, Path logs) throws IOException {
    this.data = data;
    this.logs = logs;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
  }

  URI base() {
    return URI.create("http://127.0.0.1:" + port + "/");
  }

  Path data() {
    return data;
  }

  /** Starts the server and waits for it to be ready. */
  synchronized void start() throws Exception {
    String jar = System.getProperty("xsm.server.jar", "target/quarkus-app/quarkus-run.jar");
    Path log = logs.resolve("server-" + (starts++) + ".log");
    ProcessBuilder pb =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx512m",
            "-jar",
            Path.of(jar).toAbsolutePath().toString());
    pb.environment().put("XSM_ROOT_PASSWORD", PASSWORD);
    pb.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
    pb.environment().put("XSM_DATA_DIR", data.toString());
    pb.environment().put("XSM_HTTPS_PORT", "0");
    pb.environment().put("XSM_NBD_PORT", "0");
    pb.environment().put("XSM_DOMAINS", "simulator");
    // The collector runs throughout, with a short quiet period, so that it works during the soak.
    pb.environment().put("XSM_GC_QUIET_PERIOD_MS", "2000");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    process = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the server exited:\n" + tail(log));
      }
      String l = Files.readString(log, StandardCharsets.UTF_8);
      if (l.contains("xsm XenAPI server ready") && l.contains("Listening on:")) {
        break;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the server did not get ready in 180 s:\n" + tail(log));
      }
      wait(50); // its log is read again; start() holds the monitor, so nobody notifies
    }
    up = true;
    notifyAll();
  }

  /** SIGKILL, then a start at once (workers wait meanwhile). */
  void killAndRestart() throws Exception {
    synchronized (this) {
      up = false;
      process.destroyForcibly();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the server did not die on SIGKILL");
      }
    }
    start();
  }

  /** Waits until the server is up (at most {@code seconds}); false if it is not. */
  synchronized boolean awaitUp(long seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!up) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  synchronized int starts() {
    return starts;
  }

  private static String tail(Path log) throws IOException {
    String s = Files.readString(log, StandardCharsets.UTF_8);
    return s.substring(Math.max(0, s.length() - 4000));
  }

  @Override
  public synchronized void close() throws Exception {
    up = false;
    if (process != null) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }
}
