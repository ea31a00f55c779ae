package org.xsm.iscsi.array.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs external tools (the real peers) with a timeout and captures their output. */
final class Tools {
  private Tools() {}

  /** Exit code and combined stdout/stderr. */
  record Result(int exit, String output) {
    Result ok() {
      if (exit != 0) {
        throw new AssertionError("exit " + exit + ":\n" + output);
      }
      return this;
    }
  }

  static Result run(int timeoutSeconds, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
    p.getOutputStream().close();
    byte[] out;
    try (var in = p.getInputStream()) {
      out = in.readAllBytes();
    }
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", cmd) + " timed out");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** True if qemu-io, opening {@code url} read-only, reads {@code pattern} over the range. */
  static boolean readsPattern(String url, int pattern, long offset, String length)
      throws IOException, InterruptedException {
    Result r =
        run(
            60,
            "qemu-io",
            "-r",
            "-f",
            "raw",
            "-c",
            "read -P " + pattern + " " + offset + " " + length,
            url);
    return r.exit() == 0
        && !r.output().contains("Pattern verification failed")
        && r.output().contains("read ");
  }
}
