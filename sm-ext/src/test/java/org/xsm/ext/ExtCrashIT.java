package org.xsm.ext;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.conformance.VdiBytes;

/**
 * Snapshot and clone are killed with SIGKILL, in a forked JVM, at each of their steps. After
 * re-attaching the SR (which recovers) and scanning, the tree is consistent, no VDI is lost, every
 * VDI reads back exactly its bytes, and the SR keeps working.
 */
class ExtCrashIT {
  private static final int SIZE = 6 * 1024 * 1024;

  @TempDir Path dir;

  static Stream<Arguments> points() {
    List<Arguments> a = new ArrayList<>();
    for (String p :
        List.of(
            "snapshot.logged",
            "snapshot.base-renamed",
            "snapshot.created",
            "snapshot.cbt-rotated",
            "snapshot.committed")) {
      a.add(Arguments.of("snapshot", p));
      a.add(Arguments.of("clone", p)); // a clone copies the CBT log at snapshot.cbt-rotated
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{0} killed at {1}")
  @MethodSource("points")
  void killedAtEveryStepRecovers(String op, String point) throws Exception {
    String srUuid = UUID.randomUUID().toString();
    SrConfig cfg = new SrConfig(srUuid, Map.of("path", dir.toString()));
    ExtDriver driver = new ExtDriver();
    driver.create(cfg, 0);
    Sr sr = driver.attach(cfg);
    VdiInfo vdi = sr.createVdi(SIZE, VdiMetadata.named("disk"));
    String leaf = vdi.location();
    ForkedCrash.writeRandom(sr, SIZE, leaf, 1);
    sr.enableCbt(leaf);
    VdiInfo older = sr.snapshot(leaf, SnapshotKind.DOUBLE, null);
    ForkedCrash.writeRandom(sr, SIZE, leaf, 2);
    Map<String, byte[]> before = new HashMap<>();
    for (VdiInfo v : sr.scan()) {
      if (v.managed()) {
        before.put(v.location(), VdiBytes.readAll(sr, v.location()));
      }
    }
    sr.detach();

    ForkedCrash.killAt(CrashChild.class, point, dir.toString(), srUuid, op, leaf, point);

    Sr again = driver.attach(cfg);
    List<VdiInfo> after = again.scan();
    ForkedCrash.assertRecovered(dir, again, after, before);
    boolean committed = point.equals("snapshot.committed");
    for (VdiInfo v : after) {
      if (v.managed() && !before.containsKey(v.location())) {
        assertThat(committed).as("new VDI " + v.location() + " survived a rollback").isTrue();
        assertThat(VdiBytes.readAll(again, v.location())).isEqualTo(before.get(leaf));
      }
    }
    // CBT history is intact: the changes since the older snapshot are still known.
    assertThat(again.listChangedBlocks(older.location(), leaf).changed().isEmpty()).isFalse();
    // The SR keeps working.
    VdiInfo s = again.snapshot(leaf, SnapshotKind.DOUBLE, null);
    assertThat(VdiBytes.readAll(again, s.location())).isEqualTo(before.get(leaf));
    again.detach();
  }
}
