package org.xsm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.xsm.api.SmDriver;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.registry.PluginRegistry;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.VhdCreator;

/**
 * Driver-level cost of VDI operations on one EXT SR with 100 and with 10,000 VDIs: each operation's
 * median (over {@value #RUNS} runs, each on a VDI of its own) at both sizes and their ratio, and
 * the time of {@code scan()}. The 10,000 VDIs are laid down as files (a 1 GiB dynamic VHD and its
 * {@code .meta}, as the driver writes them) before the SR is attached, as a restored SR would be;
 * the attach reads them all.
 */
public final class SrScaleBench {
  static final int RUNS = 21;
  private static final long GIB = 1L << 30;

  private SrScaleBench() {}

  /** One figure per operation, in milliseconds. */
  private record Figures(
      Map<String, Double> medians, double attachMs, double firstScanMs, double reattachScanMs) {}

  public static void main(String[] args) throws Exception {
    Path root = benchDir().resolve("sr-scale");
    int small = 100;
    int large = 10_000;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--large")) {
        large = Integer.parseInt(args[++i]);
      }
    }
    System.out.printf("SR scale benchmark: EXT SR in %s, median of %d runs%n", root, RUNS);
    measure(root, small); // warm-up: the JIT, the page cache
    Figures a = measure(root, small);
    Figures b = measure(root, large);
    System.out.printf(
        "%-22s %12s %12s %8s%n", "operation", small + " VDIs", large + " VDIs", "ratio");
    for (String op : a.medians.keySet()) {
      double x = a.medians.get(op);
      double y = b.medians.get(op);
      System.out.printf("%-22s %9.3f ms %9.3f ms %8.2f%n", op, x, y, y / x);
    }
    System.out.printf(
        "attach: %.0f ms at %d VDIs, %.0f ms at %d VDIs%n", a.attachMs, small, b.attachMs, large);
    System.out.printf(
        "first scan of files laid down behind the driver's back (reads every file): %.0f ms,"
            + " %.0f ms%n",
        a.firstScanMs, b.firstScanMs);
    System.out.printf(
        "first scan after detach and re-attach (model cache saved at detach): %.0f ms, %.0f ms%n",
        a.reattachScanMs, b.reattachScanMs);
    clean(root);
  }

  static Path benchDir() {
    return Path.of(System.getenv().getOrDefault("XSM_BENCH_DIR", "bench/target/bench-data"))
        .toAbsolutePath();
  }

  private static Figures measure(Path root, int count) throws Exception {
    Path dir = root.resolve("n" + count);
    clean(dir);
    Files.createDirectories(dir);
    SmDriver ext = PluginRegistry.load().driver("ext");
    SrConfig cfg = new SrConfig(UUID.randomUUID().toString(), Map.of("path", dir.toString()));
    ext.create(cfg, 0);
    List<String> vdis = populate(dir, count);
    long t0 = System.nanoTime();
    Sr sr = ext.attach(cfg);
    double attachMs = ms(System.nanoTime() - t0);
    t0 = System.nanoTime();
    sr.scan();
    double firstScanMs = ms(System.nanoTime() - t0);
    Map<String, Double> m = new java.util.LinkedHashMap<>();
    double[] t = new double[RUNS];
    List<String> created = new ArrayList<>();
    for (int i = 0; i < RUNS; i++) {
      long s = System.nanoTime();
      created.add(sr.createVdi(GIB, VdiMetadata.named("new")).location());
      t[i] = ms(System.nanoTime() - s);
    }
    m.put("createVdi", median(t));
    List<String> snaps = new ArrayList<>();
    for (int i = 0; i < RUNS; i++) {
      String v = vdis.get(i);
      long s = System.nanoTime();
      snaps.add(sr.snapshot(v, SnapshotKind.DOUBLE, null).location());
      t[i] = ms(System.nanoTime() - s);
    }
    m.put("snapshot", median(t));
    List<String> clones = new ArrayList<>();
    for (int i = 0; i < RUNS; i++) {
      String v = vdis.get(RUNS + i);
      long s = System.nanoTime();
      clones.add(sr.cloneVdi(v, null).location());
      t[i] = ms(System.nanoTime() - s);
    }
    m.put("cloneVdi", median(t));
    for (int i = 0; i < RUNS; i++) {
      String v = vdis.get(2 * RUNS + i);
      long s = System.nanoTime();
      sr.updateVdi(v, VdiMetadata.named("renamed " + i));
      t[i] = ms(System.nanoTime() - s);
    }
    m.put("updateVdi", median(t));
    for (int i = 0; i < RUNS; i++) {
      String v = vdis.get(3 * RUNS + i);
      long s = System.nanoTime();
      sr.attachVdi(v, true);
      sr.activateVdi(v);
      t[i] = ms(System.nanoTime() - s);
      sr.detachVdi(v);
    }
    m.put("attach+activate", median(t));
    for (int i = 0; i < RUNS; i++) {
      long s = System.nanoTime();
      sr.deleteVdi(snaps.get(i));
      t[i] = ms(System.nanoTime() - s);
    }
    m.put("deleteVdi", median(t));
    double[] scans = new double[5];
    for (int i = 0; i < scans.length; i++) {
      long s = System.nanoTime();
      sr.scan();
      scans[i] = ms(System.nanoTime() - s);
    }
    m.put("scan", median(scans));
    sr.detach();
    sr = ext.attach(cfg);
    t0 = System.nanoTime();
    sr.scan();
    double reattachScanMs = ms(System.nanoTime() - t0);
    sr.detach();
    return new Figures(m, attachMs, firstScanMs, reattachScanMs);
  }

  /** Lays down {@code count} 1 GiB VDIs as files: a copy of one new VHD each, and its metadata. */
  private static List<String> populate(Path dir, int count) throws IOException {
    Path template = dir.resolve(".template.vhd");
    Path tdir = dir.resolve(".template");
    Files.createDirectories(tdir);
    VhdCreator.createDynamic(LocalImageStore.open(tdir), "t.vhd", GIB).close();
    Files.move(tdir.resolve("t.vhd"), template);
    Files.delete(tdir);
    byte[] vhd = Files.readAllBytes(template);
    Files.delete(template);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String u = UUID.randomUUID().toString();
      Files.write(dir.resolve(u + ".vhd"), vhd);
      String meta =
          "sm_read_only=false\nname_label=disk "
              + i
              + "\nname_description=\ntype=user\nis_a_snapshot=false\n";
      Files.write(dir.resolve(u + ".meta"), meta.getBytes(StandardCharsets.ISO_8859_1));
      out.add(u);
    }
    return out;
  }

  static double median(double[] t) {
    double[] c = t.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }

  static double ms(long nanos) {
    return nanos / 1e6;
  }

  static void clean(Path dir) throws IOException {
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
