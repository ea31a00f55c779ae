package org.xsm.ext;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.xsm.api.Sr;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.plugins.conformance.VdiBytes;
import org.xsm.plugins.filesr.CrashPoints;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.Vhd;

/**
 * Runs a main class in a forked JVM until it reaches a named {@link CrashPoints crash point}, then
 * kills it with SIGKILL. The child side calls {@link #stopAt} first.
 */
final class ForkedCrash {
  private ForkedCrash() {}

  /**
   * After a killed operation and a re-attach: no op log or temporary file is left, every VHD passes
   * {@code vhd check}, and every VDI of {@code before} is listed by the scan {@code after} and
   * reads back exactly its bytes.
   */
  static void assertRecovered(Path dir, Sr again, List<VdiInfo> after, Map<String, byte[]> before)
      throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("no op log or temporary file is left")
          .noneMatch(n -> n.startsWith(".oplog") || n.endsWith(".tmp") || n.endsWith(".creating"));
    }
    LocalImageStore store = LocalImageStore.open(dir);
    for (String name : store.list()) {
      if (name.endsWith(".vhd")) {
        assertThat(Vhd.check(store, name, true)).as("check of " + name).isEmpty();
      }
    }
    for (Map.Entry<String, byte[]> e : before.entrySet()) {
      assertThat(after).extracting(VdiInfo::location).contains(e.getKey());
      assertThat(VdiBytes.readAll(again, e.getKey()))
          .as("content of " + e.getKey())
          .isEqualTo(e.getValue());
    }
  }

  /**
   * Writes 20 random extents (seeded) to a detached VDI of {@code size} bytes, flushes, detaches.
   */
  static void writeRandom(Sr sr, int size, String location, long seed) throws Exception {
    sr.attachVdi(location, true);
    VdiDevice d = sr.activateVdi(location);
    Random r = new Random(seed);
    for (int i = 0; i < 20; i++) {
      byte[] b = new byte[1 + r.nextInt(100_000)];
      r.nextBytes(b);
      d.write(ByteBuffer.wrap(b), r.nextInt(size - b.length));
    }
    d.flush();
    sr.detachVdi(location);
  }

  /** In the child: announce {@code target} when reached, then wait to be killed. */
  static void stopAt(String target) {
    CrashPoints.install(
        point -> {
          if (point.equals(target)) {
            System.out.println("AT " + point);
            System.out.flush();
            try {
              Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        });
  }

  /** In the child, after the operation: say it finished and wait. */
  static void finished() throws InterruptedException {
    System.out.println("DONE");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }

  /** Forks {@code main} with {@code args}, SIGKILLs it at {@code point}; fails if never reached. */
  static void killAt(Class<?> main, String point, String... args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    StringBuilder out = new StringBuilder();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        out.append(line).append('\n');
        if (line.equals("AT " + point) || line.equals("DONE")) {
          break;
        }
      }
      child.destroyForcibly(); // SIGKILL
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(out.toString()).as("child output").contains("AT " + point);
  }
}
