package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xsm.api.Capability;
import org.xsm.api.SmError;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;

/**
 * What snapshots, base copies and clones are: how a scan lists them, and that snapshots and base
 * copies stay read-only (and clones writable) whatever metadata the caller passes or updates.
 */
public abstract class ReadOnlyConformance extends ErrorConformance {
  @Test
  void doubleSnapshotScanShowsLeafSnapshotAndHiddenBaseCopy() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk data = createWithData(sr, a, 11);
    VdiMetadata meta = snapshotMetadata(a, "snap");
    VdiInfo s = sr.snapshot(a.location(), SnapshotKind.DOUBLE, meta);
    assertThat(s.metadata()).as("metadata returned by snapshot").isEqualTo(meta);
    List<VdiInfo> scan = sr.scan();
    boolean baseCopy = snapshotsLeaveBaseCopies();
    assertThat(scan)
        .as(
            baseCopy
                ? "scan after one DOUBLE snapshot: leaf, snapshot, base copy"
                : "scan after one snapshot on storage without base copies: leaf, snapshot")
        .hasSize(baseCopy ? 3 : 2);
    VdiInfo leaf = scanned(sr, a.location());
    VdiInfo snap = scanned(sr, s.location());
    assertThat(leaf.uuid()).as("the leaf keeps its UUID").isEqualTo(a.uuid());
    assertThat(List.of(leaf.managed(), leaf.readOnly()))
        .as("leaf managed, readOnly")
        .containsExactly(true, false);
    assertThat(List.of(snap.managed(), snap.readOnly()))
        .as("snapshot managed, readOnly")
        .containsExactly(true, true);
    assertThat(snap.metadata()).as("scanned snapshot metadata").isEqualTo(meta);
    expectError(
        SmError.VDI_UNAVAILABLE,
        "writable attach of a snapshot",
        () -> sr.attachVdi(s.location(), true));
    if (baseCopy) {
      VdiInfo base =
          scan.stream()
              .filter(v -> !v.location().equals(a.location()) && !v.location().equals(s.location()))
              .findFirst()
              .orElseThrow();
      assertThat(List.of(base.managed(), base.readOnly()))
          .as("base copy managed, readOnly")
          .containsExactly(false, true);
      assertThat(new HashSet<>(List.of(leaf.uuid(), snap.uuid(), base.uuid())))
          .as("UUIDs")
          .hasSize(3);
      assertThat(base.virtualSizeBytes()).as("base copy size").isEqualTo(a.virtualSizeBytes());
      expectError(
          SmError.VDI_UNAVAILABLE,
          "writable attach of a base copy",
          () -> sr.attachVdi(base.location(), true));
    } else {
      assertThat(snap.uuid()).as("snapshot UUID").isNotEqualTo(leaf.uuid());
    }
    assertContent(sr, s.location(), data, "snapshot after refused writable attach");
    assertContent(sr, a.location(), data, "leaf after refused writable attaches");
  }

  /**
   * A snapshot is read-only because of how it was made, not because of the metadata the caller
   * passed (xapi sets is_a_snapshot only after the SM call).
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = SnapshotKind.class,
      names = {"DOUBLE", "SINGLE"})
  void snapshotIsReadOnlyWhateverItsMetadataSays(SnapshotKind kind) throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk data = createWithData(sr, a, 18);
    VdiInfo s = sr.snapshot(a.location(), kind, VdiMetadata.named("plain metadata"));
    assertThat(s.readOnly())
        .as("readOnly of a %s snapshot made with plain metadata", kind)
        .isTrue();
    assertThat(scanned(sr, s.location()).readOnly())
        .as("scanned readOnly of a %s snapshot made with plain metadata", kind)
        .isTrue();
    expectError(
        SmError.VDI_UNAVAILABLE,
        "writable attach of a " + kind + " snapshot made with plain metadata",
        () -> sr.attachVdi(s.location(), true));
    assertContent(sr, s.location(), data, kind + " snapshot made with plain metadata");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = SnapshotKind.class,
      names = {"DOUBLE", "SINGLE"})
  void updatingASnapshotsMetadataKeepsItReadOnly(SnapshotKind kind) throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT, Capability.VDI_UPDATE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk data = createWithData(sr, a, 19);
    VdiInfo s = snapshot(sr, a, kind, "snapshot");
    VdiMetadata renamed = VdiMetadata.named("renamed, without snapshot fields");
    sr.updateVdi(s.location(), renamed);
    VdiInfo scanned = scanned(sr, s.location());
    assertThat(scanned.metadata()).as("metadata after update").isEqualTo(renamed);
    assertThat(scanned.readOnly()).as("readOnly of a %s snapshot after updateVdi", kind).isTrue();
    expectError(
        SmError.VDI_UNAVAILABLE,
        "writable attach of a " + kind + " snapshot after updateVdi",
        () -> sr.attachVdi(s.location(), true));
    assertContent(sr, s.location(), data, kind + " snapshot after updateVdi");
    assertContent(sr, a.location(), data, "leaf after its snapshot's updateVdi");
  }

  @Test
  void aCloneIsWritableWhateverItsMetadataSays() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_CLONE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk data = createWithData(sr, a, 22);
    VdiInfo c = sr.cloneVdi(a.location(), snapshotMetadata(a, "clone with snapshot fields"));
    assertThat(c.readOnly()).as("readOnly of a clone made with snapshot metadata").isFalse();
    VdiDevice d = open(sr, c.location(), true);
    ShadowDisk clone = data.copy();
    clone.writeRound(d, new Random(23), 1);
    close(sr, c.location());
    assertContent(sr, c.location(), clone, "clone made with snapshot metadata");
    assertContent(sr, a.location(), data, "its source");
  }

  @Test
  void singleSnapshotIsAReadOnlyManagedVdi() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk data = createWithData(sr, a, 12);
    VdiInfo s = snapshot(sr, a, SnapshotKind.SINGLE, "single");
    List<VdiInfo> scan = sr.scan();
    assertThat(locations(scan))
        .as("scan after one SINGLE snapshot: leaf and snapshot")
        .containsExactlyInAnyOrder(a.location(), s.location());
    VdiInfo snap = scanned(sr, s.location());
    assertThat(List.of(snap.managed(), snap.readOnly()))
        .as("SINGLE snapshot managed, readOnly")
        .containsExactly(true, true);
    expectError(
        SmError.VDI_UNAVAILABLE,
        "writable attach of a SINGLE snapshot",
        () -> sr.attachVdi(s.location(), true));
    assertContent(sr, s.location(), data, "SINGLE snapshot");
    VdiDevice d = open(sr, a.location(), true);
    ShadowDisk later = data.copy();
    later.writeRound(d, new Random(13), 1);
    close(sr, a.location());
    assertContent(sr, s.location(), data, "SINGLE snapshot after writes to the leaf");
    assertContent(sr, a.location(), later, "leaf after SINGLE snapshot and writes");
  }
}
