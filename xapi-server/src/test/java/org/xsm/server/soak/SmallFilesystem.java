package org.xsm.server.soak;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A size-limited tmpfs (root only), where an SR runs out of space. */
final class SmallFilesystem {
  private SmallFilesystem() {}

  /** Mounts a tmpfs of {@code mib} at {@code dir}; false where this process may not mount. */
  static boolean mount(Path dir, int mib) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    return run(
        List.of(
            "mount", "-t", "tmpfs", "-o", "size=" + mib + "m,mode=0755", "tmpfs", dir.toString()));
  }

  static void unmount(Path dir) throws IOException, InterruptedException {
    if (!run(List.of("umount", dir.toString()))) {
      run(List.of("umount", "-l", dir.toString()));
    }
  }

  private static boolean run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return false;
    }
    if (p.exitValue() != 0) {
      System.err.println(String.join(" ", cmd) + ": " + out.strip());
    }
    return p.exitValue() == 0;
  }
}
