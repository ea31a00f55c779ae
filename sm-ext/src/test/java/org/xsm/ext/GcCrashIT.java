package org.xsm.ext;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.conformance.VdiBytes;
import org.xsm.plugins.filesr.FileSr;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.Vhd;

/**
 * The garbage collector is killed with SIGKILL, in a forked JVM, at each of its journal steps
 * (garbage, coalesce, relink, leaf-coalesce). After re-attaching the SR the tree is consistent and
 * every VDI reads exactly its bytes; a complete run afterwards reaches the minimal tree.
 */
class GcCrashIT {
  private static final int MIB = 1024 * 1024;

  @TempDir Path dir;

  @ParameterizedTest(name = "killed at {0}")
  @MethodSource("org.xsm.plugins.conformance.GcConformance#gcSteps")
  void killedAtEveryJournalStepRecovers(String point) throws Exception {
    String srUuid = UUID.randomUUID().toString();
    SrConfig cfg = new SrConfig(srUuid, Map.of("path", dir.toString()), Map.of("gc", "false"));
    ExtDriver driver = new ExtDriver();
    driver.create(cfg, 0);
    Sr sr = driver.attach(cfg);
    int size = 8 * MIB;
    // A leaf with a kept snapshot (a hidden node to coalesce with relink), then deleted
    // snapshots (garbage and a leaf-coalesce candidate).
    String leaf = sr.createVdi(size, VdiMetadata.named("disk")).location();
    GarbageCollectorTest.write(sr, leaf, 1, size, 30);
    String s1 = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    GarbageCollectorTest.write(sr, leaf, 2, size, 10);
    String s2 = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    GarbageCollectorTest.write(sr, leaf, 3, size, 10);
    String s3 = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    GarbageCollectorTest.write(sr, leaf, 4, size, 10);
    sr.deleteVdi(s2);
    sr.deleteVdi(s3);
    Map<String, byte[]> before = new HashMap<>();
    for (VdiInfo v : sr.scan()) {
      if (v.managed()) {
        before.put(v.location(), VdiBytes.readAll(sr, v.location()));
      }
    }
    assertThat(before).containsOnlyKeys(leaf, s1);
    sr.detach();

    ForkedCrash.killAt(GcCrashChild.class, point, dir.toString(), srUuid, point);

    Sr again = driver.attach(cfg);
    assertConsistent(again, before);
    ((FileSr) again).collectGarbage();
    assertConsistent(again, before);
    assertThat(Vhd.query(LocalImageStore.open(dir), leaf + ".vhd").chainDepth()).isEqualTo(2);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("no journal or moved-aside leaf is left")
          .noneMatch(n -> n.startsWith(".gc-") || n.startsWith(".old-"));
    }
    again.detach();
  }

  private void assertConsistent(Sr sr, Map<String, byte[]> before) throws Exception {
    LocalImageStore store = LocalImageStore.open(dir);
    for (String n : store.list()) {
      if (n.endsWith(".vhd") && !n.startsWith(".")) {
        assertThat(Vhd.check(store, n, true)).as("check of " + n).isEmpty();
      }
    }
    Map<String, byte[]> now = new HashMap<>();
    for (VdiInfo v : sr.scan()) {
      if (v.managed()) {
        now.put(v.location(), VdiBytes.readAll(sr, v.location()));
      }
    }
    assertThat(now).containsOnlyKeys(before.keySet());
    for (Map.Entry<String, byte[]> e : before.entrySet()) {
      assertThat(now.get(e.getKey())).as("content of " + e.getKey()).isEqualTo(e.getValue());
    }
  }
}
