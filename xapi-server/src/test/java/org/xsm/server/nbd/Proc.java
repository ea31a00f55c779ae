package org.xsm.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real client tool and captures its exit code and output (stdout and stderr together). */
record Proc(int exit, String output) {

  static Proc run(List<String> cmd) throws IOException, InterruptedException {
    Path tool = Path.of(cmd.get(0));
    assertThat(Files.isExecutable(tool))
        .as(cmd.get(0) + " is missing: apt-get install qemu-utils libnbd-bin (or run .ci/test)")
        .isTrue();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(cmd + " did not finish in 120 s");
    }
    return new Proc(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** Runs it and fails with its output unless it exits 0. */
  static String ok(List<String> cmd) throws IOException, InterruptedException {
    Proc r = run(cmd);
    assertThat(r.exit).as(String.join(" ", cmd) + "\n" + r.output).isZero();
    return r.output;
  }
}
