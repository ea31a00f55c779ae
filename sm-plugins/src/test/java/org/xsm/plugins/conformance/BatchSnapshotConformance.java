package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.xsm.api.Capability;
import org.xsm.api.SmError;
import org.xsm.api.SnapshotKind;
import org.xsm.api.SnapshotRequest;
import org.xsm.api.Sr;
import org.xsm.api.TreeChange;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;

/**
 * Batched snapshots ({@code Sr.snapshotAll}) and the tree changes that snapshot and clone report
 * ({@code snapshotChange}, {@code cloneChange}): each new VDI holds its disk's bytes, nothing is
 * left by a failed batch, and what an operation reports is what a scan then says.
 */
public abstract class BatchSnapshotConformance extends ScanConformance {
  private static final int DISKS = 4;

  /** What a scan says of a VDI, minus the physical utilisation (a GC may change it). */
  private static String described(VdiInfo v) {
    return summaryOf(v) + " managed=" + v.managed() + " " + v.smConfig();
  }

  /** Every VDI a change reports is as a scan now reports it. */
  private static void assertAsScanned(Sr sr, List<TreeChange> changes, String what)
      throws Exception {
    List<VdiInfo> scan = sr.scan();
    for (TreeChange c : changes) {
      List<VdiInfo> reported = new ArrayList<>(c.changed());
      reported.add(c.vdi());
      for (VdiInfo v : reported) {
        VdiInfo s =
            find(scan, v.location())
                .orElseThrow(
                    () -> new AssertionError(what + ": scan does not list " + v.location()));
        assertThat(described(v)).as(what + ": reported " + v.location()).isEqualTo(described(s));
      }
    }
  }

  @Test
  void snapshotAllSnapshotsEveryDiskAndReportsWhatScanSees() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT);
    Sr sr = newSr();
    List<VdiInfo> disks = new ArrayList<>();
    List<ShadowDisk> data = new ArrayList<>();
    for (int i = 0; i < DISKS; i++) {
      VdiInfo v = createVdi(sr, (4L + i) * MIB, "disk " + i);
      disks.add(v);
      data.add(createWithData(sr, v, 300 + i));
    }
    // One disk stays active and writable through the batch, as a running VM's would.
    VdiDevice active = open(sr, disks.get(0).location(), true);
    List<SnapshotRequest> req = new ArrayList<>();
    for (VdiInfo v : disks) {
      req.add(
          new SnapshotRequest(
              v.location(), SnapshotKind.DOUBLE, snapshotMetadata(v, "snap of " + v.uuid())));
    }
    List<TreeChange> changes = sr.snapshotAll(req);
    assertThat(changes).as("one change per request").hasSize(DISKS);
    ShadowDisk later = data.get(0).copy();
    later.writeRound(active, new Random(310), 1);
    active.flush();
    close(sr, disks.get(0).location());
    for (int i = 0; i < DISKS; i++) {
      VdiInfo snap = changes.get(i).vdi();
      assertThat(snap.location())
          .as("snapshot %d is a new VDI", i)
          .isNotEqualTo(disks.get(i).location());
      assertThat(snap.readOnly()).as("snapshot %d read-only", i).isTrue();
      assertThat(snap.metadata().nameLabel()).isEqualTo("snap of " + disks.get(i).uuid());
      assertContent(sr, snap.location(), data.get(i), "snapshot " + i + " of a batch");
    }
    assertContent(sr, disks.get(0).location(), later, "the active disk after the batch");
    for (int i = 1; i < DISKS; i++) {
      assertContent(sr, disks.get(i).location(), data.get(i), "disk " + i + " after the batch");
    }
    if (snapshotsLeaveBaseCopies()) {
      for (TreeChange c : changes) {
        assertThat(c.changed())
            .as("a VHD-tree snapshot reports the new base copy and the leaf")
            .hasSize(2);
      }
    }
    assertAsScanned(sr, changes, "snapshotAll");
  }

  @Test
  void aFailedBatchLeavesNothing() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT);
    Sr sr = newSr();
    List<VdiInfo> disks = new ArrayList<>();
    List<ShadowDisk> data = new ArrayList<>();
    for (int i = 0; i < DISKS - 1; i++) {
      VdiInfo v = createVdi(sr, 4L * MIB, "disk " + i);
      disks.add(v);
      data.add(createWithData(sr, v, 320 + i));
    }
    Map<String, String> before = managedSummary(sr);
    List<SnapshotRequest> req = new ArrayList<>();
    for (VdiInfo v : disks) {
      req.add(new SnapshotRequest(v.location(), SnapshotKind.DOUBLE, null));
    }
    List<SnapshotRequest> missing = new ArrayList<>(req);
    missing.add(new SnapshotRequest(randomLocation(), SnapshotKind.DOUBLE, null));
    expectError(SmError.VDI_MISSING, "a batch with a missing VDI", () -> sr.snapshotAll(missing));
    assertThat(managedSummary(sr)).as("VDIs after a failed batch").isEqualTo(before);
    List<SnapshotRequest> twice = new ArrayList<>(req);
    twice.add(req.get(0));
    expectError(SmError.BAD_REQUEST, "a batch naming a VDI twice", () -> sr.snapshotAll(twice));
    assertThat(managedSummary(sr)).as("VDIs after a refused batch").isEqualTo(before);
    for (int i = 0; i < disks.size(); i++) {
      assertContent(sr, disks.get(i).location(), data.get(i), "disk " + i + " after the failure");
    }
    assertThat(sr.snapshotAll(List.of())).as("an empty batch").isEmpty();
    assertThat(managedSummary(sr)).as("VDIs after an empty batch").isEqualTo(before);
  }

  @Test
  void snapshotAndCloneReportTheirChangesAsScanSeesThem() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT, Capability.VDI_CLONE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk data = createWithData(sr, a, 330);
    TreeChange s = sr.snapshotChange(a.location(), SnapshotKind.DOUBLE, snapshotMetadata(a, "s"));
    assertAsScanned(sr, List.of(s), "snapshotChange");
    assertContent(sr, s.vdi().location(), data, "snapshot reported by snapshotChange");
    TreeChange c = sr.cloneChange(a.location(), null);
    assertAsScanned(sr, List.of(c), "cloneChange");
    assertThat(c.vdi().readOnly()).as("a clone is writable").isFalse();
    assertContent(sr, c.vdi().location(), data, "clone reported by cloneChange");
    // A snapshot of a snapshot (VM revert clones them): no base copy, nothing else changes.
    TreeChange cs = sr.cloneChange(s.vdi().location(), null);
    assertAsScanned(sr, List.of(cs), "clone of a snapshot");
    assertContent(sr, cs.vdi().location(), data, "clone of a snapshot");
  }
}
