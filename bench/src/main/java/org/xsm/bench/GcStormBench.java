package org.xsm.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.xsm.api.GcCounters;
import org.xsm.api.SmDriver;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.plugins.registry.PluginRegistry;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.Vhd;

/**
 * The garbage collector under Xen Orchestra's rolling snapshots, through the SMAPI (EXT driver):
 * {@code --vdis} disks (20) on one SR, each written continuously with 4 KiB writes at a modest rate
 * in a hot region; every 10 s each gets a new snapshot and its previous one is destroyed; the SR is
 * scanned every 2 s. {@code --minutes} (10) with the collector at its defaults, between two halves
 * of a baseline with the collector off (same workload, SRs of their own; halves before and after,
 * so that a change of the machine's load weighs on both sides). Reports the longest chain, peak
 * physical utilisation against live data, snapshot failures, and the p99 of the 4 KiB writes made
 * while a coalesce ran against the p99 with the collector off. Then {@link GcLeafPause}: the I/O
 * pause of a live leaf-coalesce of a 1 GiB leaf being written. Every disk is checked byte for byte
 * against its model at the end, and every VHD file with {@code vhd check}.
 */
public final class GcStormBench {
  static final int MIB = 1024 * 1024;
  static final int BLOCK = 2 * MIB;

  private GcStormBench() {}

  /** The options, from the command line. */
  record Options(
      int vdis,
      double minutes,
      int baselineSeconds,
      int writesPerSecond,
      int vdiMib,
      int hotMib,
      int leafMib,
      String gcRateMib) {
    static Options parse(String[] args) {
      Map<String, String> m = new HashMap<>();
      for (int i = 0; i + 1 < args.length; i += 2) {
        m.put(args[i], args[i + 1]);
      }
      double minutes = Double.parseDouble(m.getOrDefault("--minutes", "10"));
      return new Options(
          Integer.parseInt(m.getOrDefault("--vdis", "20")),
          minutes,
          Integer.parseInt(
              m.getOrDefault(
                  "--baseline-seconds", Integer.toString((int) Math.max(60, minutes * 12)))),
          Integer.parseInt(m.getOrDefault("--writes-per-second", "50")),
          Integer.parseInt(m.getOrDefault("--vdi-mib", "64")),
          Integer.parseInt(m.getOrDefault("--hot-mib", "8")),
          Integer.parseInt(m.getOrDefault("--leaf-mib", "1024")),
          m.get("--gc-rate-mib"));
    }
  }

  /** Deterministic content of one MiB of a disk before its hot region is written. */
  static byte[] prefill(long seed, int mib) {
    byte[] b = new byte[MIB];
    new Random(seed * 1_000_003L + mib).nextBytes(b);
    return b;
  }

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    Path root =
        Path.of(System.getenv().getOrDefault("XSM_BENCH_DIR", "bench/target/bench-data"))
            .toAbsolutePath()
            .resolve("gc-storm");
    System.out.printf(
        "gc-storm: %d VDIs x %d MiB, each %d x 4 KiB writes/s in a %d MiB hot region; rolling"
            + " snapshot every 10 s; SR.scan every 2 s; %.1f min with GC at its defaults between"
            + " two halves of a %d s baseline with GC off; EXT SR in %s%n",
        o.vdis(),
        o.vdiMib(),
        o.writesPerSecond(),
        o.hotMib(),
        o.minutes(),
        o.baselineSeconds(),
        root);
    SmDriver ext = PluginRegistry.load().driver("ext");
    // The baseline in two halves, before and after, so that a change of the machine's load
    // during the run weighs on both sides of the ratio.
    Storm off = Storm.run(ext, root.resolve("gc-off"), o, false, o.baselineSeconds() / 2);
    Storm on = Storm.run(ext, root.resolve("gc-on"), o, true, (int) (o.minutes() * 60));
    Storm offAfter = Storm.run(ext, root.resolve("gc-off-2"), o, false, o.baselineSeconds() / 2);
    off.all.addAll(offAfter.all);
    off.longestChain = Math.max(off.longestChain, offAfter.longestChain);
    off.worstRatio = Math.max(off.worstRatio, offAfter.worstRatio);
    Latencies.Summary base = off.all.summary();
    Latencies.Summary during = on.duringCoalesce.summary();
    Latencies.Summary onAll = on.all.summary();
    System.out.printf(
        "baseline (GC off, half before and half after): 4 KiB writes p50 %d us, p99 %d us (%d"
            + " writes)%n",
        base.p50Micros(), base.p99Micros(), base.count());
    GcCounters c = on.counters;
    System.out.printf(
        "GC on: %d passes, %d garbage deleted, %d coalesced, %d leaf-coalesced, %d MiB copied%n",
        c.runs(), c.garbageDeleted(), c.coalesced(), c.leafCoalesced(), c.bytesCopied() / MIB);
    System.out.printf(
        "longest chain seen: %d (target <= 4); with GC off it reached %d%n",
        on.longestChain, off.longestChain);
    System.out.printf(
        "peak physical utilisation %d MiB vs live data %d MiB at that moment: %.2fx (target <="
            + " 1.5x); highest ratio seen %.2fx; with GC off it reached %.2fx%n",
        on.peakPhysical / MIB,
        on.liveAtPeak / MIB,
        (double) on.peakPhysical / on.liveAtPeak,
        on.worstRatio,
        off.worstRatio);
    System.out.printf(
        "snapshots: %d taken, SNAPSHOT_CHAIN_TOO_LONG (SR_BACKEND_FAILURE_109): %d, other"
            + " failures: %d%n",
        on.snapshots.get(), on.chainTooLong.get(), on.otherFailures.get());
    System.out.printf(
        "4 KiB write p99 while a coalesce ran: %d us (%d writes; p50 %d us) vs GC off %d us:"
            + " ratio %.2f (target <= 2); all writes with GC on: p99 %d us%n",
        during.p99Micros(),
        during.count(),
        during.p50Micros(),
        base.p99Micros(),
        (double) during.p99Micros() / Math.max(1, base.p99Micros()),
        onAll.p99Micros());
    System.out.printf(
        "bytes: %d disks and %d snapshots identical to their models: %s; vhd check of %d files:"
            + " %s%n",
        on.disksChecked,
        on.snapshotsChecked,
        on.bytesOk ? "yes" : "NO",
        on.filesChecked,
        on.problems.isEmpty() ? "clean" : on.problems);
    if (o.leafMib() > 0) {
      GcLeafPause.run(ext, root.resolve("leaf"), o.leafMib());
    }
  }

  /** One run of the workload on a new SR. */
  static final class Storm {
    final Latencies all = new Latencies();
    final Latencies duringCoalesce = new Latencies();
    final AtomicLong snapshots = new AtomicLong();
    final AtomicLong chainTooLong = new AtomicLong();
    final AtomicLong otherFailures = new AtomicLong();
    int longestChain;
    long peakPhysical;
    long liveAtPeak = 1;
    double worstRatio;
    GcCounters counters;
    boolean bytesOk = true;
    int disksChecked;
    int snapshotsChecked;
    int filesChecked;
    final List<String> problems = new ArrayList<>();

    static Storm run(SmDriver ext, Path dir, Options o, boolean gc, int seconds) throws Exception {
      GcLeafPause.deleteTree(dir);
      Files.createDirectories(dir);
      Map<String, String> other = new HashMap<>();
      if (!gc) {
        other.put("gc", "false");
      }
      if (o.gcRateMib() != null) {
        other.put("gc-rate-mib", o.gcRateMib());
      }
      SrConfig cfg =
          new SrConfig(UUID.randomUUID().toString(), Map.of("path", dir.toString()), other);
      ext.create(cfg, 0);
      Sr sr = ext.attach(cfg);
      Storm s = new Storm();
      List<StormDisk> disks = new ArrayList<>();
      for (int i = 0; i < o.vdis(); i++) {
        disks.add(StormDisk.create(sr, i, o));
      }
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> threads = new ArrayList<>();
      for (StormDisk d : disks) {
        threads.add(start("writer-" + d.index, () -> d.writeUntil(stop, s, sr, o)));
        threads.add(start("snapshots-" + d.index, () -> d.rollUntil(stop, s, sr, o)));
      }
      long end = System.nanoTime() + seconds * 1_000_000_000L;
      while (System.nanoTime() < end) {
        s.observe(sr, disks);
        Thread.sleep(2000);
      }
      stop.set(true);
      for (Thread t : threads) {
        t.join();
      }
      s.observe(sr, disks);
      s.counters = sr.gcCounters();
      for (StormDisk d : disks) {
        s.bytesOk &= d.verify(sr);
        s.disksChecked++;
        s.snapshotsChecked++;
      }
      s.checkFiles(dir);
      for (StormDisk d : disks) {
        d.close(sr);
      }
      sr.detach();
      return s;
    }

    private static Thread start(String name, ThrowingRunnable r) {
      Thread t =
          new Thread(
              () -> {
                try {
                  r.run();
                } catch (Exception e) {
                  throw new IllegalStateException(name + " failed", e);
                }
              },
              name);
      t.start();
      return t;
    }

    /** One 2-second look: a scan (chain depths), the SR's stats against live data. */
    synchronized void observe(Sr sr, List<StormDisk> disks) throws SmException {
      Map<String, String> parent = new HashMap<>();
      for (VdiInfo v : sr.scan()) {
        parent.put(v.location(), v.smConfig().get("vhd-parent"));
      }
      for (String leaf : parent.keySet()) {
        int d = 0;
        for (String l = leaf; l != null && d < 100; l = parent.get(l)) {
          d++;
        }
        longestChain = Math.max(longestChain, d);
      }
      long physical = sr.stats().physicalUtilisationBytes();
      long live = 0;
      for (StormDisk d : disks) {
        live += d.liveBytes();
      }
      double ratio = (double) physical / live;
      worstRatio = Math.max(worstRatio, ratio);
      if (physical > peakPhysical) {
        peakPhysical = physical;
        liveAtPeak = live;
      }
    }

    void checkFiles(Path dir) throws IOException {
      LocalImageStore store = LocalImageStore.open(dir);
      for (String n : store.list()) {
        if (n.endsWith(".vhd") && !n.startsWith(".")) {
          filesChecked++;
          for (String p : Vhd.check(store, n, true)) {
            problems.add(n + ": " + p);
          }
        }
      }
    }
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** Whether an SM failure is the chain limit (xapi's SR_BACKEND_FAILURE_109). */
  static boolean chainTooLong(SmException e) {
    return e.error() == SmError.SNAPSHOT_CHAIN_TOO_LONG;
  }

  static void write(VdiDevice d, byte[] data, long offset) throws SmException {
    d.write(ByteBuffer.wrap(data), offset);
  }
}
