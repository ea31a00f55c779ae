package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.xsm.api.Capability;
import org.xsm.api.SmError;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;

/** Snapshots and clones: immutability, independence, deletion, the chain limit, concurrency. */
public abstract class SnapshotConformance extends ReadOnlyConformance {
  /** xapi's limit: a VHD chain may be at most this deep (a new VDI is a chain of 1). */
  static final int MAX_CHAIN_DEPTH = 30;

  @Test
  void doubleSnapshotsNeverChange() throws Exception {
    snapshotRounds(SnapshotKind.DOUBLE);
  }

  @Test
  void singleSnapshotsNeverChange() throws Exception {
    snapshotRounds(SnapshotKind.SINGLE);
  }

  /**
   * Rounds of: write, snapshot (with the leaf active, attached only, or detached), write more;
   * after each round every snapshot so far still holds what the leaf held when it was taken.
   */
  private void snapshotRounds(SnapshotKind kind) throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT);
    int rounds = 4;
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 8L * MIB, "leaf");
    ShadowDisk leaf = new ShadowDisk(a.virtualSizeBytes());
    Random random = new Random(100 + kind.ordinal());
    List<VdiInfo> snaps = new ArrayList<>();
    List<ShadowDisk> frozen = new ArrayList<>();
    Set<String> seen = new HashSet<>(Set.of(a.location()));
    VdiDevice device = open(sr, a.location(), true);
    for (int round = 0; round < rounds; round++) {
      leaf.writeRound(device, random, round);
      // The leaf is active (round 0, 3), attached but not active (1), or detached (2).
      int state = round % 3;
      if (state == 1) {
        sr.deactivateVdi(a.location());
      } else if (state == 2) {
        device.flush();
        close(sr, a.location());
      }
      VdiInfo s = snapshot(sr, a, kind, kind + " snapshot " + round);
      assertThat(seen.add(s.location())).as("snapshot %d has a new location", round).isTrue();
      assertThat(s.readOnly()).as("readOnly of %s snapshot %d", kind, round).isTrue();
      assertThat(s.virtualSizeBytes()).as("size of snapshot").isEqualTo(a.virtualSizeBytes());
      snaps.add(s);
      frozen.add(leaf.copy());
      if (state == 1) {
        device = sr.activateVdi(a.location());
      } else if (state == 2) {
        device = open(sr, a.location(), true);
      }
      leaf.assertMatches(device, "leaf right after " + kind + " snapshot " + round);
      leaf.writeRound(device, random, round + 10);
      leaf.assertMatches(device, "leaf after writes following snapshot " + round);
      for (int i = 0; i <= round; i++) {
        assertContent(
            sr,
            snaps.get(i).location(),
            frozen.get(i),
            kind + " snapshot " + i + " after round " + round);
      }
    }
    device.flush();
    close(sr, a.location());
    assertContent(sr, a.location(), leaf, "leaf after all rounds");

    List<VdiInfo> scan = sr.scan();
    long unmanaged = scan.stream().filter(v -> !v.managed()).count();
    assertThat(scan.stream().filter(VdiInfo::managed).map(VdiInfo::location))
        .as("managed VDIs after %d %s snapshots", rounds, kind)
        .containsExactlyInAnyOrderElementsOf(
            concat(a.location(), snaps.stream().map(VdiInfo::location).toList()));
    assertThat(unmanaged)
        .as("hidden base copies after %d %s snapshots", rounds, kind)
        .isEqualTo(kind == SnapshotKind.DOUBLE && snapshotsLeaveBaseCopies() ? rounds : 0);
    for (VdiInfo s : snaps) {
      assertThat(scanned(sr, s.location()).readOnly())
          .as("scanned readOnly of a snapshot")
          .isTrue();
    }
    assertThat(scanned(sr, a.location()).readOnly()).as("scanned readOnly of the leaf").isFalse();
  }

  private static List<String> concat(String first, List<String> rest) {
    List<String> all = new ArrayList<>(rest);
    all.add(0, first);
    return all;
  }

  @Test
  void clonesAreIndependent() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_CLONE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 8L * MIB, "source");
    ShadowDisk source = createWithData(sr, a, 20);
    VdiMetadata meta = VdiMetadata.named("clone");
    VdiInfo c = sr.cloneVdi(a.location(), meta);
    assertThat(c.location()).as("clone location").isNotEqualTo(a.location());
    assertThat(List.of(c.managed(), c.readOnly()))
        .as("clone managed, readOnly")
        .containsExactly(true, false);
    assertThat(c.virtualSizeBytes()).as("clone size").isEqualTo(a.virtualSizeBytes());
    assertThat(c.metadata()).as("clone metadata").isEqualTo(meta);
    ShadowDisk clone = source.copy();

    VdiDevice ds = open(sr, a.location(), true);
    VdiDevice dc = open(sr, c.location(), true);
    clone.assertMatches(dc, "new clone");
    Random random = new Random(21);
    source.writeRound(ds, random, 1);
    clone.writeRound(dc, random, 2);
    source.assertMatches(ds, "source after writes to both");
    clone.assertMatches(dc, "clone after writes to both");
    close(sr, a.location());
    close(sr, c.location());
    assertContent(sr, a.location(), source, "source");
    assertContent(sr, c.location(), clone, "clone");

    if (has(Capability.VDI_SNAPSHOT)) {
      VdiInfo s = snapshot(sr, a, SnapshotKind.DOUBLE, "snap");
      ShadowDisk snap = source.copy();
      VdiInfo c2 = sr.cloneVdi(s.location(), VdiMetadata.named("clone of snapshot"));
      assertThat(c2.readOnly()).as("a clone of a snapshot is writable").isFalse();
      VdiDevice d2 = open(sr, c2.location(), true);
      ShadowDisk clone2 = snap.copy();
      clone2.assertMatches(d2, "clone of a snapshot");
      clone2.writeRound(d2, random, 3);
      close(sr, c2.location());
      assertContent(sr, s.location(), snap, "snapshot after writes to its clone");
      assertContent(sr, c2.location(), clone2, "clone of the snapshot");
      assertContent(sr, a.location(), source, "source after its snapshot was cloned");
      assertContent(sr, c.location(), clone, "first clone at the end");
    }
  }

  @Test
  void deletingASnapshotOrTheSourceKeepsTheOthersData() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT, Capability.VDI_DELETE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 8L * MIB, "source");
    Random random = new Random(30);
    ShadowDisk source = new ShadowDisk(a.virtualSizeBytes());
    VdiDevice d = open(sr, a.location(), true);
    source.writeRound(d, random, 0);
    VdiInfo s1 = snapshot(sr, a, SnapshotKind.DOUBLE, "s1");
    ShadowDisk first = source.copy();
    source.writeRound(d, random, 1);
    VdiInfo c = null;
    ShadowDisk clone = null;
    if (has(Capability.VDI_CLONE)) {
      c = sr.cloneVdi(a.location(), VdiMetadata.named("clone"));
      clone = source.copy();
    }
    source.writeRound(d, random, 2);
    VdiInfo s2 = snapshot(sr, a, SnapshotKind.DOUBLE, "s2");
    ShadowDisk second = source.copy();
    source.writeRound(d, random, 3);
    d.flush();
    close(sr, a.location());
    assertContent(sr, s1.location(), first, "snapshot s1 before any delete");
    VdiInfo c1 = null;
    ShadowDisk fromS1 = null;
    if (has(Capability.VDI_CLONE)) {
      // A clone of s1 reads through s1's data, which must outlive s1's deletion.
      c1 = sr.cloneVdi(s1.location(), VdiMetadata.named("clone of s1"));
      fromS1 = first.copy();
      VdiDevice dc1 = open(sr, c1.location(), true);
      fromS1.writeRound(dc1, random, 5);
      close(sr, c1.location());
    }

    sr.deleteVdi(s1.location());
    List<VdiInfo> afterDelete = sr.scan();
    assertThat(afterDelete.stream().filter(VdiInfo::managed).map(VdiInfo::location))
        .as("managed VDIs in the scan after deleting snapshot s1")
        .doesNotContain(s1.location())
        .contains(a.location(), s2.location());
    assertThat(locations(afterDelete))
        .as(
            "scan after deleting snapshot s1: a deleted VDI is not listed at all (xapi would"
                + " re-introduce a listed location as a VDI record with the deleted UUID)")
        .doesNotContain(s1.location());
    expectError(
        SmError.VDI_MISSING,
        "attach of a deleted snapshot",
        () -> sr.attachVdi(s1.location(), false));
    assertContent(sr, a.location(), source, "source after deleting snapshot s1");
    assertContent(sr, s2.location(), second, "snapshot s2 after deleting snapshot s1");
    if (c != null) {
      assertContent(sr, c.location(), clone, "clone after deleting snapshot s1");
      assertContent(sr, c1.location(), fromS1, "clone of snapshot s1 after deleting s1");
    }

    sr.deleteVdi(a.location());
    assertThat(locations(sr.scan()))
        .as("scan after deleting the source")
        .doesNotContain(a.location(), s1.location())
        .contains(s2.location());
    assertContent(sr, s2.location(), second, "snapshot s2 after deleting its source");
    if (c != null) {
      assertContent(sr, c.location(), clone, "clone after deleting its source");
      VdiDevice dc = open(sr, c.location(), true);
      clone.writeRound(dc, random, 4);
      close(sr, c.location());
      assertContent(sr, c.location(), clone, "clone written after deleting its source");
    }
    assertContent(sr, s2.location(), second, "snapshot s2 at the end");
    if (c1 != null) {
      assertContent(sr, c1.location(), fromS1, "clone of s1 at the end");
    }
  }

  @Test
  void snapshotChainLimitIsRefusedAndTheVdiStillWorks() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT);
    org.junit.jupiter.api.Assumptions.assumeTrue(
        maxChainDepth() > 0, "the backend has no snapshot chains");
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "deep");
    ShadowDisk leaf = new ShadowDisk(a.virtualSizeBytes());
    Random random = new Random(40);
    VdiDevice d = open(sr, a.location(), true);
    VdiInfo firstSnap = null;
    ShadowDisk firstData = null;
    VdiInfo lastSnap = null;
    ShadowDisk lastData = null;
    int allowed = MAX_CHAIN_DEPTH - 1;
    for (int i = 1; i <= allowed; i++) {
      leaf.writeRandom(d, random, (long) random.nextInt((int) leaf.sizeBytes() - 8192), 8192);
      try {
        lastSnap = snapshot(sr, a, SnapshotKind.DOUBLE, "depth " + i);
      } catch (org.xsm.api.SmException e) {
        throw new AssertionError(
            "snapshot "
                + i
                + " of a new VDI (its chain then "
                + i
                + " deep, the limit being "
                + MAX_CHAIN_DEPTH
                + ") failed: "
                + e,
            e);
      }
      lastData = leaf.copy();
      if (i == 1) {
        firstSnap = lastSnap;
        firstData = lastData;
      }
    }
    Map<String, String> before = managedSummary(sr);
    expectError(
        SmError.SNAPSHOT_CHAIN_TOO_LONG,
        "snapshot " + (allowed + 1) + " (the chain being " + MAX_CHAIN_DEPTH + " deep)",
        () -> sr.snapshot(a.location(), SnapshotKind.DOUBLE, snapshotMetadata(a, "too deep")));
    if (has(Capability.VDI_CLONE)) {
      expectError(
          SmError.SNAPSHOT_CHAIN_TOO_LONG,
          "clone of a VDI whose chain is 30 deep",
          () -> sr.cloneVdi(a.location(), VdiMetadata.named("too deep")));
    }
    assertThat(managedSummary(sr)).as("VDIs after refused snapshot").isEqualTo(before);
    leaf.assertMatches(d, "leaf after the refused snapshot");
    leaf.writeRound(d, random, 1);
    leaf.assertMatches(d, "leaf written after the refused snapshot");
    d.flush();
    close(sr, a.location());
    assertContent(sr, a.location(), leaf, "leaf after the refused snapshot, re-attached");
    assertContent(sr, lastSnap.location(), lastData, "deepest snapshot");
    assertContent(sr, firstSnap.location(), firstData, "first snapshot");
  }

  @Test
  void snapshotOfASnapshotHoldsTheSameData() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk data = createWithData(sr, a, 14);
    VdiInfo s = snapshot(sr, a, SnapshotKind.DOUBLE, "s");
    VdiInfo ss = snapshot(sr, s, SnapshotKind.DOUBLE, "snapshot of s");
    assertThat(ss.readOnly()).as("readOnly of a snapshot of a snapshot").isTrue();
    assertThat(ss.location()).as("location").isNotIn(a.location(), s.location());
    VdiDevice d = open(sr, a.location(), true);
    ShadowDisk later = data.copy();
    later.writeRound(d, new Random(15), 1);
    close(sr, a.location());
    assertContent(sr, s.location(), data, "snapshot after it was snapshotted");
    assertContent(sr, ss.location(), data, "snapshot of the snapshot");
    assertContent(sr, a.location(), later, "leaf");
    assertThat(sr.scan().stream().filter(VdiInfo::managed).map(VdiInfo::location))
        .as("managed VDIs")
        .containsExactlyInAnyOrder(a.location(), s.location(), ss.location());
  }

  @Test
  void allocatedBlocksCoverEveryBlockHoldingData() throws Exception {
    assumeVdiIo();
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 8L * MIB, "sparse");
    ShadowDisk disk = new ShadowDisk(a.virtualSizeBytes());
    Random random = new Random(16);
    VdiDevice d = open(sr, a.location(), true);
    assertAllocationCoversData(d, disk, "new VDI");
    disk.writeRandom(d, random, 2L * MIB + 100, 10);
    disk.writeRandom(d, random, 8L * MIB - 5000, 5000);
    assertAllocationCoversData(d, disk, "VDI with data in blocks 1 and 3");
    if (has(Capability.VDI_SNAPSHOT)) {
      VdiInfo s = snapshot(sr, a, SnapshotKind.DOUBLE, "s");
      ShadowDisk atSnapshot = disk.copy();
      assertAllocationCoversData(d, disk, "empty leaf over a base copy, right after a snapshot");
      disk.writeRandom(d, random, 100, 4096);
      assertAllocationCoversData(d, disk, "leaf over a base copy with data of its own");
      VdiDevice sd = open(sr, s.location(), false);
      assertAllocationCoversData(sd, atSnapshot, "snapshot");
      close(sr, s.location());
    }
    close(sr, a.location());
  }

  /** Asserts that every block that {@code allocatedBlocks()} leaves out holds only zeros. */
  static void assertAllocationCoversData(VdiDevice d, ShadowDisk content, String what)
      throws Exception {
    content.assertMatches(d, what);
    int g = d.allocationBlockSizeBytes();
    assertThat(g).as("allocation block size").isPositive();
    long blocks = (d.sizeBytes() + g - 1) / g;
    BitSet allocated = d.allocatedBlocks();
    assertThat((long) allocated.length())
        .as("allocatedBlocks() of %s has no bits past the end of the disk", what)
        .isLessThanOrEqualTo(blocks);
    for (int i = 0; i < blocks; i++) {
      if (!allocated.get(i)) {
        assertThat(content.isZero((long) i * g, (long) (i + 1) * g))
            .as(
                "block %d (of %d bytes) of %s holds data but allocatedBlocks() leaves it out",
                i, g, what)
            .isTrue();
      }
    }
  }
}
