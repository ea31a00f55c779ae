package org.xsm.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a client script or tool as a child process for the tests, output and errors together. */
final class ChildProcess {
  private ChildProcess() {}

  /** How a run ended: exit status (-1 if killed), whether it timed out, and what it printed. */
  record Result(int exit, boolean timedOut, String output) {}

  /** Runs a command in {@code dir} (null: the current directory), killing it after the timeout. */
  static Result run(List<String> command, Path dir, long timeoutSeconds)
      throws IOException, InterruptedException {
    return run(command, dir, Map.of(), timeoutSeconds);
  }

  /** As {@link #run(List, Path, long)}, with {@code env} added to the child's environment. */
  static Result run(List<String> command, Path dir, Map<String, String> env, long timeoutSeconds)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    pb.environment().put("NO_COLOR", "1");
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread reader =
        new Thread(
            () -> {
              try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
              } catch (IOException e) {
                // the process was killed; what was read is kept
              }
            });
    reader.start();
    boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
    if (!done) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    reader.join(10_000);
    return new Result(done ? p.exitValue() : -1, !done, out.toString(StandardCharsets.UTF_8));
  }
}
