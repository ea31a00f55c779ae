package org.xsm.iscsi;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The storage array ({@code org.xsm.iscsi.array.ArrayMain}, what {@code ./xsm array} runs) as a
 * child JVM on free ports, started with its documented command line and stopped by its PID. Shared
 * with the server's tests through this module's test-jar.
 */
public final class ArrayProcess implements AutoCloseable {
  public static final String USER = "admin";
  public static final String PASSWORD = "array-secret";

  private final Process process;
  private final String portal;
  private final String iqn;
  private final String controlUrl;

  private ArrayProcess(Process process, String portal, String iqn, String controlUrl) {
    this.process = process;
    this.portal = portal;
    this.iqn = iqn;
    this.controlUrl = controlUrl;
  }

  /** Starts an array with its pool in {@code dir} on free ports; extra arguments e.g. CHAP. */
  public static ArrayProcess start(Path dir, String... extra) throws IOException {
    return start(dir, 0, 0, extra);
  }

  /**
   * Starts an array with its pool in {@code dir} on the given ports (0: any free one), so that a
   * restarted array is found where the first one was.
   */
  public static ArrayProcess start(Path dir, int iscsiPort, int controlPort, String... extra)
      throws IOException {
    return start(dir, "127.0.0.1", iscsiPort, controlPort, extra);
  }

  /**
   * Starts an array listening on {@code address} (clients in other network namespaces reach it on
   * an address of a bridge), on the given ports (0: any free one).
   */
  public static ArrayProcess start(
      Path dir, String address, int iscsiPort, int controlPort, String... extra)
      throws IOException {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                "org.xsm.iscsi.array.ArrayMain",
                "--dir",
                dir.toString(),
                "--portal",
                address + ":" + iscsiPort,
                "--control",
                address + ":" + controlPort,
                "--user",
                USER,
                "--password",
                PASSWORD,
                "--capacity-gib",
                "2"));
    cmd.addAll(List.of(extra));
    Process p =
        new ProcessBuilder(cmd)
            .redirectError(
                ProcessBuilder.Redirect.appendTo(
                    dir.resolveSibling(dir.getFileName() + ".log").toFile()))
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String> ready =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                String line;
                while ((line = out.readLine()) != null) {
                  if (line.startsWith("array ready:")) {
                    return line;
                  }
                }
                return null;
              } catch (IOException e) {
                return null;
              }
            });
    String line;
    try {
      line = ready.get(60, TimeUnit.SECONDS);
    } catch (InterruptedException | java.util.concurrent.ExecutionException | TimeoutException e) {
      p.destroyForcibly();
      throw new IOException("the array did not start: " + e, e);
    }
    if (line == null) {
      p.destroyForcibly();
      throw new IOException("the array exited before it was ready");
    }
    Map<String, String> fields = new HashMap<>();
    for (String part : line.substring("array ready:".length()).trim().split(" ")) {
      int eq = part.indexOf('=');
      fields.put(part.substring(0, eq), part.substring(eq + 1));
    }
    // keep draining stdout so the child never blocks on a full pipe
    Thread drain =
        new Thread(
            () -> {
              try {
                while (out.readLine() != null) {
                  // discard
                }
              } catch (IOException e) {
                // the child is gone
              }
            },
            "array-stdout");
    drain.setDaemon(true);
    drain.start();
    return new ArrayProcess(p, fields.get("iscsi"), fields.get("iqn"), fields.get("control"));
  }

  public String portal() {
    return portal;
  }

  public String iqn() {
    return iqn;
  }

  public String controlUrl() {
    return controlUrl;
  }

  /** The device_config of an SR on this array. */
  public Map<String, String> deviceConfig() {
    Map<String, String> m = new HashMap<>();
    m.put("target", portal);
    m.put("targetIQN", iqn);
    m.put("controlURL", controlUrl);
    m.put("controlUser", USER);
    m.put("controlPassword", PASSWORD);
    return m;
  }

  /** Kills the array with SIGKILL, as a crash would. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(20, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
