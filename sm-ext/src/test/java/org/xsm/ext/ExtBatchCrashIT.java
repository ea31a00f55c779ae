package org.xsm.ext;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xsm.api.SnapshotKind;
import org.xsm.api.SnapshotRequest;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.conformance.VdiBytes;

/**
 * A batched snapshot of four disks, two of them active, is killed with SIGKILL, in a forked JVM, at
 * each of its steps. After re-attaching the SR (which recovers) and scanning: all four disks were
 * snapshotted (only when the kill came after the commit) or none was; no op log or temporary file
 * is left; every VHD passes {@code vhd check}; every VDI reads back exactly its bytes; CBT history
 * of the inactive disks is intact (an active disk's log is marked inconsistent, so it refuses after
 * a crash); the SR keeps working (another batch succeeds).
 */
class ExtBatchCrashIT {
  private static final int SIZE = 6 * 1024 * 1024;
  private static final int DISKS = 4;

  @TempDir Path dir;

  @ParameterizedTest(name = "batch killed at {0}")
  @ValueSource(
      strings = {
        "batch.logged",
        "batch.base-renamed",
        "batch.created",
        "batch.cbt-rotated",
        "batch.committed"
      })
  void killedAtEveryStepLeavesAllOrNone(String point) throws Exception {
    String srUuid = UUID.randomUUID().toString();
    SrConfig cfg = new SrConfig(srUuid, Map.of("path", dir.toString()));
    ExtDriver driver = new ExtDriver();
    driver.create(cfg, 0);
    Sr sr = driver.attach(cfg);
    List<String> disks = new ArrayList<>();
    List<String> older = new ArrayList<>();
    for (int i = 0; i < DISKS; i++) {
      String v = sr.createVdi(SIZE, VdiMetadata.named("disk " + i)).location();
      ForkedCrash.writeRandom(sr, SIZE, v, 10L * i + 1);
      sr.enableCbt(v);
      older.add(sr.snapshot(v, SnapshotKind.DOUBLE, null).location());
      ForkedCrash.writeRandom(sr, SIZE, v, 10L * i + 2);
      disks.add(v);
    }
    Map<String, byte[]> before = new HashMap<>();
    for (VdiInfo v : sr.scan()) {
      if (v.managed()) {
        before.put(v.location(), VdiBytes.readAll(sr, v.location()));
      }
    }
    sr.detach();

    List<String> args = new ArrayList<>(List.of(dir.toString(), srUuid, point));
    args.addAll(disks);
    ForkedCrash.killAt(BatchCrashChild.class, point, args.toArray(String[]::new));

    Sr again = driver.attach(cfg);
    List<VdiInfo> after = again.scan();
    ForkedCrash.assertRecovered(dir, again, after, before);
    List<VdiInfo> added =
        after.stream().filter(v -> v.managed() && !before.containsKey(v.location())).toList();
    boolean committed = point.equals("batch.committed");
    assertThat(added).as("new snapshots after a kill at " + point).hasSize(committed ? DISKS : 0);
    for (VdiInfo v : added) {
      String of = v.metadata().snapshotOf();
      assertThat(disks).as("snapshot_of of " + v.location()).contains(of);
      assertThat(VdiBytes.readAll(again, v.location())).isEqualTo(before.get(of));
    }
    for (int i = 2; i < DISKS; i++) {
      assertThat(again.listChangedBlocks(older.get(i), disks.get(i)).changed().isEmpty())
          .as("CBT history of disk " + i)
          .isFalse();
    }
    List<SnapshotRequest> req = new ArrayList<>();
    for (String v : disks) {
      req.add(new SnapshotRequest(v, SnapshotKind.DOUBLE, null));
    }
    List<org.xsm.api.TreeChange> more = again.snapshotAll(req);
    for (int i = 0; i < DISKS; i++) {
      assertThat(VdiBytes.readAll(again, more.get(i).vdi().location()))
          .isEqualTo(before.get(disks.get(i)));
    }
    again.detach();
  }
}
