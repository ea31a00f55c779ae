package org.xsm.bench;

import static org.xsm.bench.GcStormBench.MIB;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.xsm.api.SmDriver;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.filesr.FileSr;
import org.xsm.plugins.filesr.GarbageCollector.GcReport;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.Vhd;

/**
 * Live leaf-coalesce of a large leaf (1 GiB of its own data over a 1 GiB parent) while its VDI is
 * written with 4 KiB writes (500/s in a 64 MiB hot region): the I/O pause of the final switch as
 * the collector measures it, and the slowest write seen, then the bytes against the model and
 * {@code vhd check} of the result.
 */
final class GcLeafPause {
  private static final int HOT_MIB = 64;

  private GcLeafPause() {}

  static void run(SmDriver ext, Path dir, int leafMib) throws Exception {
    deleteTree(dir);
    Files.createDirectories(dir);
    SrConfig cfg =
        new SrConfig(
            UUID.randomUUID().toString(), Map.of("path", dir.toString()), Map.of("gc", "false"));
    ext.create(cfg, 0);
    Sr sr = ext.attach(cfg);
    long size = (long) leafMib * MIB;
    String loc = sr.createVdi(size, VdiMetadata.named("big-leaf")).location();
    sr.attachVdi(loc, true);
    VdiDevice d = sr.activateVdi(loc);
    fill(d, 1, leafMib);
    String snap = sr.snapshot(loc, SnapshotKind.DOUBLE, null).location();
    fill(d, 2, leafMib); // the leaf holds the whole disk again: 1 GiB to merge
    sr.deleteVdi(snap);
    byte[] hot = new byte[HOT_MIB * MIB];
    for (int m = 0; m < HOT_MIB; m++) {
      System.arraycopy(GcStormBench.prefill(2, m), 0, hot, m * MIB, MIB);
    }
    Latencies lat = new Latencies();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread writer =
        new Thread(
            () -> {
              Random r = new Random(7);
              byte[] b = new byte[4096];
              try {
                while (!stop.get()) {
                  long off = 4096L * r.nextInt(HOT_MIB * MIB / 4096);
                  r.nextBytes(b);
                  long t0 = System.nanoTime();
                  d.write(ByteBuffer.wrap(b), off);
                  lat.add(System.nanoTime() - t0);
                  System.arraycopy(b, 0, hot, (int) off, b.length);
                  Thread.sleep(2);
                }
              } catch (Throwable t) {
                failed.set(t);
              }
            },
            "leaf-writer");
    writer.start();
    long t = System.nanoTime();
    GcReport r = ((FileSr) sr).collectGarbage();
    double seconds = (System.nanoTime() - t) / 1e9;
    stop.set(true);
    writer.join();
    if (failed.get() != null) {
      throw new IllegalStateException("writer failed", failed.get());
    }
    d.flush();
    boolean same = true;
    byte[] got = new byte[MIB];
    for (int m = 0; m < leafMib && same; m++) {
      d.read(ByteBuffer.wrap(got), (long) m * MIB);
      byte[] want =
          m < HOT_MIB
              ? Arrays.copyOfRange(hot, m * MIB, (m + 1) * MIB)
              : GcStormBench.prefill(2, m);
      same = Arrays.equals(got, want);
    }
    sr.detachVdi(loc);
    LocalImageStore store = LocalImageStore.open(dir);
    int depth = Vhd.query(store, loc + ".vhd").chainDepth();
    List<String> problems = Vhd.check(store, loc + ".vhd", true);
    Latencies.Summary s = lat.summary();
    System.out.printf(
        "leaf-coalesce of a %d MiB leaf under 4 KiB writes: %s in %.1f s (%d MiB copied); I/O"
            + " pause %.1f ms (target <= 100 ms); slowest write %d us, p99 %d us (%d writes);"
            + " chain depth after %d; bytes identical: %s; vhd check: %s%n",
        leafMib,
        r.leafCoalesced() == 1 ? "merged" : "NOT merged (deferred " + r.deferred() + ")",
        seconds,
        r.bytesCopied() / MIB,
        r.longestPauseNanos() / 1e6,
        s.maxMicros(),
        s.p99Micros(),
        s.count(),
        depth,
        same ? "yes" : "NO",
        problems.isEmpty() ? "clean" : problems);
    sr.detach();
  }

  private static void fill(VdiDevice d, long seed, int mib) throws Exception {
    for (int m = 0; m < mib; m++) {
      d.write(ByteBuffer.wrap(GcStormBench.prefill(seed, m)), (long) m * MIB);
    }
    d.flush();
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
