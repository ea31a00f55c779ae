package org.xsm.ext;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.conformance.VdiBytes;
import org.xsm.plugins.filesr.FileSr;
import org.xsm.plugins.filesr.GarbageCollector.GcReport;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.Vhd;

/** The garbage collector through the EXT driver: space and chains come back, data never moves. */
class GarbageCollectorTest {
  private static final int MIB = 1024 * 1024;

  @TempDir Path dir;

  private Sr newSr(Map<String, String> otherConfig) throws Exception {
    SrConfig cfg =
        new SrConfig(UUID.randomUUID().toString(), Map.of("path", dir.toString()), otherConfig);
    ExtDriver d = new ExtDriver();
    d.create(cfg, 0);
    return d.attach(cfg);
  }

  static void write(Sr sr, String loc, long seed, int size, int count) throws Exception {
    sr.attachVdi(loc, true);
    VdiDevice d = sr.activateVdi(loc);
    Random r = new Random(seed);
    for (int i = 0; i < count; i++) {
      byte[] b = new byte[4096 * (1 + r.nextInt(64))];
      r.nextBytes(b);
      d.write(ByteBuffer.wrap(b), 4096L * r.nextInt((size - b.length) / 4096));
    }
    d.flush();
    sr.detachVdi(loc);
  }

  private Map<String, byte[]> contents(Sr sr) throws Exception {
    Map<String, byte[]> m = new HashMap<>();
    for (VdiInfo v : sr.scan()) {
      if (v.managed()) {
        m.put(v.location(), VdiBytes.readAll(sr, v.location()));
      }
    }
    return m;
  }

  private int depth(String loc) throws Exception {
    return Vhd.query(LocalImageStore.open(dir), loc + ".vhd").chainDepth();
  }

  @Test
  void snapshotsAndDeletesComeBackToTheMinimum() throws Exception {
    int size = 16 * MIB;
    Sr sr = newSr(Map.of("gc", "false"));
    String leaf = sr.createVdi(size, VdiMetadata.named("disk")).location();
    write(sr, leaf, 1, size, 40);
    List<String> kept = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      VdiInfo s = sr.snapshot(leaf, SnapshotKind.DOUBLE, null);
      if (i % 4 == 3) {
        kept.add(s.location());
      } else {
        sr.deleteVdi(s.location());
      }
      write(sr, leaf, 100 + i, size, 10);
    }
    assertThat(depth(leaf)).isEqualTo(13);
    Map<String, byte[]> before = contents(sr);
    long physicalBefore = sr.stats().physicalUtilisationBytes();

    GcReport r = ((FileSr) sr).collectGarbage();

    assertThat(r.aborted()).isFalse();
    assertThat(r.noSpace()).isEmpty();
    assertThat(contents(sr)).containsOnlyKeys(before.keySet());
    for (Map.Entry<String, byte[]> e : before.entrySet()) {
      assertThat(VdiBytes.readAll(sr, e.getKey()))
          .as("content of " + e.getKey())
          .isEqualTo(e.getValue());
    }
    // Each kept snapshot needs one base copy of its own; nothing else remains.
    assertThat(depth(leaf)).isEqualTo(kept.size() + 1);
    for (String s : kept) {
      assertThat(depth(s)).isLessThanOrEqualTo(kept.size() + 1);
    }
    assertThat(sr.stats().physicalUtilisationBytes()).isLessThan(physicalBefore);
    LocalImageStore store = LocalImageStore.open(dir);
    for (String n : store.list()) {
      if (n.endsWith(".vhd")) {
        assertThat(Vhd.check(store, n, true)).as(n).isEmpty();
      }
    }

    // Deleting the kept snapshots too brings the leaf back to a single file holding its data.
    for (String s : kept) {
      sr.deleteVdi(s);
    }
    ((FileSr) sr).collectGarbage();
    assertThat(depth(leaf)).isEqualTo(1);
    assertThat(VdiBytes.readAll(sr, leaf)).isEqualTo(before.get(leaf));
    assertThat(sr.scan()).hasSize(1);
    String fresh = sr.createVdi(size, VdiMetadata.named("fresh")).location();
    write(sr, fresh, 1, size, 0);
    assertThat(sr.stats().physicalUtilisationBytes())
        .as("one VDI's data, no base copies")
        .isLessThanOrEqualTo(size + 2L * MIB);
    sr.detach();
  }

  @Test
  void leafCoalesceOfAVdiBeingWrittenLosesNoWrite() throws Exception {
    int size = 64 * MIB;
    Sr sr = newSr(Map.of("gc", "false"));
    String leaf = sr.createVdi(size, VdiMetadata.named("busy")).location();
    write(sr, leaf, 7, size, 200);
    String snap = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    write(sr, leaf, 8, size, 400); // a large leaf (tens of MiB), merged while written
    sr.deleteVdi(snap);
    byte[] model = VdiBytes.readAll(sr, leaf);

    sr.attachVdi(leaf, true);
    VdiDevice d = sr.activateVdi(leaf);
    AtomicBoolean stop = new AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger writes =
        new java.util.concurrent.atomic.AtomicInteger();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread writer =
        new Thread(
            () -> {
              Random r = new Random(9);
              try {
                while (!stop.get()) {
                  // A hot 8 MiB region, written all through the copy rounds.
                  byte[] b = new byte[512 * (1 + r.nextInt(64))];
                  r.nextBytes(b);
                  int off = 512 * r.nextInt((8 * MIB - b.length) / 512);
                  d.write(ByteBuffer.wrap(b), off);
                  synchronized (model) {
                    System.arraycopy(b, 0, model, off, b.length);
                  }
                  writes.incrementAndGet();
                }
              } catch (Throwable t) {
                failed.set(t);
              }
            });
    writer.start();
    GcReport r;
    try {
      while (writes.get() < 20) {
        Thread.sleep(5);
      }
      int before = writes.get();
      r = ((FileSr) sr).collectGarbage();
      assertThat(writes.get() - before).as("writes during the collection").isGreaterThan(20);
    } finally {
      stop.set(true);
      writer.join();
    }
    assertThat(failed.get()).isNull();
    d.flush();
    sr.detachVdi(leaf);
    assertThat(r.leafCoalesced()).as("live leaf-coalesce under writes").isEqualTo(1);
    assertThat(r.deferred()).isEmpty();
    assertThat(depth(leaf)).as("the leaf was merged into its parent while written").isEqualTo(1);
    assertThat(VdiBytes.readAll(sr, leaf)).isEqualTo(model);
    assertThat(Vhd.check(LocalImageStore.open(dir), leaf + ".vhd", true)).isEmpty();
    sr.detach();
  }

  @Test
  void backgroundCollectionRunsAfterTheQuietPeriodUnlessDisabled() throws Exception {
    Sr sr = newSr(Map.of("gc-quiet-period-ms", "200"));
    String leaf = sr.createVdi(8 * MIB, VdiMetadata.named("a")).location();
    write(sr, leaf, 1, 8 * MIB, 20);
    String snap = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    sr.deleteVdi(snap); // kicks the collector
    long deadline = System.currentTimeMillis() + 20_000;
    while (depthWhileCollecting(leaf) != 1 && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    sr.detach(); // stops the collector, so the file is read at rest
    assertThat(depth(leaf)).isEqualTo(1);
  }

  /**
   * The depth read outside the SR lock while the collector may be replacing the leaf's file (a
   * leaf-coalesce renames it): -1 when the file is caught between its rename and its replacement.
   */
  private int depthWhileCollecting(String loc) throws Exception {
    try {
      return depth(loc);
    } catch (java.nio.file.NoSuchFileException e) {
      return -1;
    }
  }

  @Test
  void gcFalseKeepsTheTreeAsItIs() throws Exception {
    Sr sr = newSr(Map.of("gc", "false", "gc-quiet-period-ms", "50"));
    String leaf = sr.createVdi(8 * MIB, VdiMetadata.named("a")).location();
    String snap = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    sr.deleteVdi(snap);
    sr.scan();
    Thread.sleep(500);
    assertThat(depth(leaf)).isEqualTo(2);
    sr.detach();
  }

  @Test
  void srDeleteCollectsFirstSoDeletedVdisDoNotBlockIt() throws Exception {
    SrConfig cfg =
        new SrConfig(
            UUID.randomUUID().toString(), Map.of("path", dir.toString()), Map.of("gc", "false"));
    ExtDriver driver = new ExtDriver();
    driver.create(cfg, 0);
    Sr sr = driver.attach(cfg);
    String leaf = sr.createVdi(8 * MIB, VdiMetadata.named("a")).location();
    String snap = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    sr.deleteVdi(snap);
    sr.deleteVdi(leaf); // leaves a hidden base copy: garbage
    sr.detach();
    driver.delete(cfg);
    assertThat(driver.probe(Map.of("path", dir.toString()))).isEmpty();
  }
}
