package org.xsm.iscsi.array.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.iscsi.array.control.Json;

/**
 * A SIGKILLed array restarts with every acknowledged write intact. A writer (qemu-io, a real
 * initiator) writes 64 KiB patterns, each followed by a flush (SYNCHRONIZE CACHE): a write is
 * acknowledged when that qemu-io run exits 0. While it runs, and while qemu-img bench adds a stream
 * of writes to another LUN, the array process is killed with SIGKILL at a random moment, three
 * times over; after each restart every acknowledged pattern must read back, and the write that was
 * in flight must read as either its pattern or what was there before.
 */
class KilledArrayIT {
  private static final int SLOT = 64 * 1024;

  @TempDir Path dir;

  @Test
  void acknowledgedWritesSurviveSigkill() throws Exception {
    Path pool = dir.resolve("pool");
    Map<Integer, Integer> acked = new ConcurrentHashMap<>();
    Random random = new Random(7);
    int nextSlot = 0;
    ForkedArray array = ForkedArray.start(pool);
    array.call("POST", "/api/v1/luns", "{\"name\":\"disk\",\"sizeBytes\":134217728}");
    array.call("POST", "/api/v1/luns", "{\"name\":\"load\",\"sizeBytes\":134217728}");
    for (int round = 0; round < 3; round++) {
      ForkedArray live = array;
      AtomicInteger inFlight = new AtomicInteger(-1);
      int first = nextSlot;
      AtomicReference<Process> current = new AtomicReference<>();
      Thread writer =
          new Thread(
              () -> {
                for (int slot = first; ; slot++) {
                  inFlight.set(slot);
                  try {
                    Process p =
                        new ProcessBuilder(
                                "qemu-io",
                                "-f",
                                "raw",
                                "-c",
                                "write -P " + pattern(slot) + " " + (long) slot * SLOT + " 64k",
                                "-c",
                                "flush",
                                live.url(0))
                            .redirectErrorStream(true)
                            .start();
                    current.set(p);
                    String out =
                        new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    if (p.waitFor() != 0 || out.contains("failed")) {
                      return;
                    }
                  } catch (Exception e) {
                    return;
                  }
                  acked.put(slot, pattern(slot));
                }
              });
      Process load =
          new ProcessBuilder(
                  "qemu-img",
                  "bench",
                  "-f",
                  "raw",
                  "-w",
                  "-c",
                  "10000000",
                  "-d",
                  "16",
                  "-s",
                  "4k",
                  live.url(1))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      writer.start();
      int target = acked.size() + 6;
      while (acked.size() < target && writer.isAlive()) {
        Thread.sleep(10);
      }
      Thread.sleep(random.nextInt(150));
      live.kill();
      // qemu-io would retry the dead portal for a long time: its write is simply not acknowledged.
      Thread.sleep(200);
      Process stuck = current.get();
      if (stuck != null) {
        stuck.destroyForcibly();
      }
      writer.join(60_000);
      load.destroyForcibly();
      load.waitFor();
      int lost = inFlight.get();
      nextSlot = lost + 1;

      array = ForkedArray.start(pool);
      List<String> reads = new ArrayList<>(List.of("qemu-io", "-r", "-f", "raw"));
      for (Map.Entry<Integer, Integer> e : new TreeMap<>(acked).entrySet()) {
        reads.add("-c");
        reads.add("read -P " + e.getValue() + " " + (long) e.getKey() * SLOT + " 64k");
      }
      reads.add(array.url(0));
      String out = Tools.run(120, reads.toArray(new String[0])).ok().output();
      assertThat(out)
          .as("acknowledged writes after kill %d", round)
          .doesNotContain("Pattern verification failed");
      assertThat(out.split("read 65536/65536 bytes", -1)).hasSize(acked.size() + 1);
      if (!acked.containsKey(lost)) {
        long at = (long) lost * SLOT;
        assertThat(
                Tools.readsPattern(array.url(0), pattern(lost), at, "64k")
                    || Tools.readsPattern(array.url(0), 0, at, "64k"))
            .as("the write in flight at kill %d reads as all old or all new", round)
            .isTrue();
      }
      System.out.printf(
          "kill %d: %d acknowledged writes intact after restart%n", round, acked.size());
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> stats =
        (Map<String, Object>) Json.parse(array.call("GET", "/api/v1/pool", null));
    assertThat(((Number) stats.get("lunCount")).intValue()).isEqualTo(2);
    array.close();
    assertThat(acked.size()).isGreaterThanOrEqualTo(18);
  }

  private static int pattern(int slot) {
    return 1 + slot % 250;
  }
}
