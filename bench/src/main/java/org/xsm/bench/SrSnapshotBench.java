package org.xsm.bench;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.xsm.api.SmDriver;
import org.xsm.api.SnapshotKind;
import org.xsm.api.SnapshotRequest;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.registry.PluginRegistry;

/**
 * Driver-level latency of a VM's disk snapshot on EXT: {@code snapshotAll} of four active VDIs of
 * 100 GiB (virtual, sparse) against four of 1 GiB, and four sequential {@code snapshot} calls for
 * comparison; medians of {@value SrScaleBench#RUNS} runs (each run deepens the chains by one, under
 * the limit of 30).
 */
public final class SrSnapshotBench {
  private static final long GIB = 1L << 30;

  private SrSnapshotBench() {}

  public static void main(String[] args) throws Exception {
    Path root = SrScaleBench.benchDir().resolve("sr-snapshot");
    System.out.printf(
        "Snapshot latency: EXT SR in %s, 4 active VDIs, median of %d runs%n",
        root, SrScaleBench.RUNS);
    run(root, 1, false); // warm-up
    double[] small = run(root, 1, true);
    double[] large = run(root, 100, true);
    System.out.printf("%-32s %12s %12s %8s%n", "operation", "4 x 1 GiB", "4 x 100 GiB", "ratio");
    String[] names = {"snapshotAll (one batch)", "4 x snapshot (one by one)"};
    for (int i = 0; i < names.length; i++) {
      System.out.printf(
          "%-32s %9.2f ms %9.2f ms %8.2f%n", names[i], small[i], large[i], large[i] / small[i]);
    }
    SrScaleBench.clean(root);
  }

  private static double[] run(Path root, int sizeGib, boolean report) throws Exception {
    Path dir = root.resolve(sizeGib + "g");
    SrScaleBench.clean(dir);
    Files.createDirectories(dir);
    SmDriver ext = PluginRegistry.load().driver("ext");
    SrConfig cfg = new SrConfig(UUID.randomUUID().toString(), Map.of("path", dir.toString()));
    ext.create(cfg, 0);
    Sr sr = ext.attach(cfg);
    List<String> disks = new ArrayList<>();
    List<String> others = new ArrayList<>();
    byte[] data = new byte[4 << 20];
    new Random(1).nextBytes(data);
    for (int i = 0; i < 8; i++) {
      String v = sr.createVdi(sizeGib * GIB, VdiMetadata.named("disk " + i)).location();
      sr.attachVdi(v, true);
      VdiDevice d = sr.activateVdi(v);
      d.write(ByteBuffer.wrap(data), 0);
      d.write(ByteBuffer.wrap(data), sizeGib * GIB - data.length);
      d.flush();
      (i < 4 ? disks : others).add(v);
    }
    int runs = report ? SrScaleBench.RUNS : 25; // warm-up: the JIT compiles the snapshot path
    double[] batch = new double[runs];
    double[] single = new double[runs];
    for (int r = 0; r < runs; r++) {
      List<SnapshotRequest> req = new ArrayList<>();
      for (String v : disks) {
        req.add(new SnapshotRequest(v, SnapshotKind.DOUBLE, null));
      }
      long t0 = System.nanoTime();
      sr.snapshotAll(req);
      batch[r] = SrScaleBench.ms(System.nanoTime() - t0);
      t0 = System.nanoTime();
      for (String v : others) {
        sr.snapshot(v, SnapshotKind.DOUBLE, null);
      }
      single[r] = SrScaleBench.ms(System.nanoTime() - t0);
    }
    for (String v : disks) {
      sr.detachVdi(v);
    }
    for (String v : others) {
      sr.detachVdi(v);
    }
    sr.detach();
    return new double[] {SrScaleBench.median(batch), SrScaleBench.median(single)};
  }
}
