package org.xsm.nfs;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the external oracles (qemu-img, libnfs's nfs-cat) with a time limit. */
final class Tools {
  private Tools() {}

  /** Runs a command and returns its standard output; fails the test on a non-zero exit. */
  static byte[] run(Path workDir, String... command) throws IOException, InterruptedException {
    Path out = Files.createTempFile(workDir, "out-", ".bin");
    Path err = Files.createTempFile(workDir, "err-", ".txt");
    Process p =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("%s did not finish in 120 s", List.of(command));
    }
    if (p.exitValue() != 0) {
      fail(
          "%s exited with %d: %s",
          List.of(command), p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    }
    byte[] b = Files.readAllBytes(out);
    Files.delete(out);
    Files.delete(err);
    return b;
  }
}
