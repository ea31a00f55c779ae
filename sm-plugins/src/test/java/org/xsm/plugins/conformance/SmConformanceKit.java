package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.xsm.api.Capability;
import org.xsm.api.ChangedBlocks;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;

/**
 * The SM conformance kit: what every storage backend must do, checked through the SPI only.
 *
 * <p>A backend's test extends this class and implements {@link #newSrFixture()}: its driver, a
 * configuration for new empty storage, and a backdoor to that storage. Every test makes its own SRs
 * and VDIs (a few MiB each). Tests of a capability the driver does not advertise are skipped;
 * instead {@code unadvertisedOperationsFailWithUnimplemented} checks that its operations fail with
 * {@code UNIMPLEMENTED}.
 *
 * <p>The tests live in this class and the ones it extends, one feature each: {@link
 * BasicConformance} (driver info, SR and VDI lifecycle, I/O), {@link ErrorConformance} (error
 * codes, and that refused operations change nothing), {@link ReadOnlyConformance} (snapshots, base
 * copies and clones as a scan shows them, read-only or not), {@link SnapshotConformance}
 * (immutability, independence, deletion, the chain limit), {@link ConcurrencyConformance}
 * (snapshots under writes, parallel snapshots, concurrent writes), {@link ScanConformance} (scan
 * after changes behind the driver's back, metadata, space, resize, re-attach), {@link
 * BatchSnapshotConformance} (batched snapshots, all or nothing, and the tree changes snapshot and
 * clone report), and this class: the optional capabilities (changed-block tracking, generated
 * configs, introduce, compose, online resize).
 */
public abstract class SmConformanceKit extends GcConformance {

  /** A byte range written during the CBT test. */
  private record Range(long offset, int length) {}

  private static BitSet blocks(ChangedBlocks cb, List<Range> ranges) {
    BitSet expected = new BitSet();
    for (Range r : ranges) {
      expected.set(
          (int) (r.offset() / cb.blockSizeBytes()),
          (int) ((r.offset() + r.length() - 1) / cb.blockSizeBytes()) + 1);
    }
    return expected;
  }

  private static void write(ShadowDisk disk, VdiDevice d, Random random, List<Range> ranges)
      throws SmException {
    for (Range r : ranges) {
      disk.writeRandom(d, random, r.offset(), r.length());
    }
  }

  private static void assertChanged(
      Sr sr, VdiInfo from, VdiInfo to, List<Range> ranges, long size, String what)
      throws SmException {
    ChangedBlocks cb;
    try {
      cb = sr.listChangedBlocks(from.location(), to.location());
    } catch (SmException e) {
      throw new AssertionError(
          "listChangedBlocks("
              + from.location()
              + ", "
              + to.location()
              + ") "
              + what
              + " failed: "
              + e,
          e);
    }
    assertThat(cb.blockSizeBytes()).as("CBT block size").isPositive();
    assertThat(cb.virtualSizeBytes()).as("CBT virtual size (%s)", what).isEqualTo(size);
    assertThat(cb.changed())
        .as("changed %d-byte blocks %s (the blocks written: %s)", cb.blockSizeBytes(), what, ranges)
        .isEqualTo(blocks(cb, ranges));
  }

  @Test
  void changedBlockTrackingContinuesThroughCloneAndCloneOfSnapshot() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_CONFIG_CBT, Capability.VDI_SNAPSHOT, Capability.VDI_CLONE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "tracked");
    long size = a.virtualSizeBytes();
    sr.enableCbt(a.location());
    Random random = new Random(81);
    ShadowDisk disk = new ShadowDisk(size);
    VdiDevice d = open(sr, a.location(), true);
    disk.writeRound(d, random, 0);
    VdiInfo s1 = snapshot(sr, a, SnapshotKind.DOUBLE, "s1");
    List<Range> x = List.of(new Range(3 * 65536 + 5, 100), new Range(MIB, 2 * 65536));
    write(disk, d, random, x);
    d.flush();
    // A clone of the live, active VDI holds what it holds: the same changes since s1.
    VdiInfo c = sr.cloneVdi(a.location(), VdiMetadata.named("clone"));
    assertThat(scanned(sr, c.location()).cbtEnabled()).as("cbtEnabled of a clone").isTrue();
    assertChanged(sr, s1, c, x, size, "from s1 to a clone of the leaf");
    assertChanged(sr, s1, a, x, size, "from s1 to the leaf after it was cloned");
    close(sr, a.location());
    // A clone of the snapshot (what VM revert makes) continues from it.
    VdiInfo r = sr.cloneVdi(s1.location(), VdiMetadata.named("reverted"));
    assertChanged(sr, s1, r, List.of(), size, "from s1 to its fresh clone");
    List<Range> z = List.of(new Range(2L * MIB + 1, 1));
    VdiDevice rd = open(sr, r.location(), true);
    write(new ShadowDisk(size), rd, random, z);
    rd.flush();
    close(sr, r.location());
    assertChanged(sr, s1, r, z, size, "from s1 to its clone after a write");
  }

  @Test
  void changedBlockTracking() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_CONFIG_CBT, Capability.VDI_SNAPSHOT);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 8L * MIB, "tracked");
    long size = a.virtualSizeBytes();
    sr.enableCbt(a.location());
    assertThat(scanned(sr, a.location()).cbtEnabled()).as("cbtEnabled after enable").isTrue();
    Random random = new Random(80);
    ShadowDisk disk = new ShadowDisk(size);
    VdiDevice d = open(sr, a.location(), true);
    disk.writeRound(d, random, 0);
    VdiInfo s1 = snapshot(sr, a, SnapshotKind.DOUBLE, "s1");
    assertThat(scanned(sr, s1.location()).cbtEnabled()).as("cbtEnabled of a snapshot").isTrue();
    ShadowDisk atS1 = disk.copy();
    List<Range> x =
        List.of(
            new Range(100, 10),
            new Range(2L * MIB - 5, 10),
            new Range(5L * MIB + 3 * 65536, 65536),
            new Range(size - 1, 1));
    write(disk, d, random, x);
    d.flush();
    VdiInfo s2 = snapshot(sr, a, SnapshotKind.DOUBLE, "s2");
    ShadowDisk atS2 = disk.copy();
    assertChanged(sr, s1, s2, x, size, "from s1 to s2");

    List<Range> y = List.of(new Range(MIB + 7, 3), new Range(6L * MIB, 131072));
    write(disk, d, random, y);
    d.flush();
    List<Range> xy = new ArrayList<>(x);
    xy.addAll(y);
    assertChanged(sr, s1, a, xy, size, "from s1 to the live leaf");
    assertChanged(sr, s2, a, y, size, "from s2 to the live leaf");
    close(sr, a.location());
    assertContent(sr, s1.location(), atS1, "snapshot s1 before data destroy");

    sr.dataDestroy(s1.location());
    VdiInfo destroyed = scanned(sr, s1.location());
    assertThat(destroyed.metadata()).as("metadata of s1 after data destroy").isNotNull();
    assertThat(destroyed.metadata().type())
        .as("type of s1 after data destroy")
        .isEqualTo("cbt_metadata");
    assertThat(destroyed.cbtEnabled()).as("cbtEnabled of s1 after data destroy").isTrue();
    // Which error is not specified; that there is one is.
    expectSomeError(
        "attach of snapshot s1 after its data was destroyed",
        () -> sr.attachVdi(s1.location(), false));
    assertChanged(sr, s1, s2, x, size, "from s1 to s2 after s1's data was destroyed");
    assertChanged(sr, s1, a, xy, size, "from s1 to the leaf after s1's data was destroyed");
    assertContent(sr, s2.location(), atS2, "snapshot s2 after data destroy");
    assertContent(sr, a.location(), disk, "leaf after data destroy of s1");
    if (has(Capability.VDI_DELETE)) {
      // Deleting the snapshot in the middle must not lose the changes it separated.
      sr.deleteVdi(s2.location());
      assertChanged(sr, s1, a, xy, size, "from s1 to the leaf after s2 was deleted");
    }

    sr.disableCbt(a.location());
    assertThat(scanned(sr, a.location()).cbtEnabled()).as("cbtEnabled after disable").isFalse();
    expectError(
        SmError.VDI_NO_CBT_METADATA,
        "listChangedBlocks to a VDI whose CBT is disabled",
        () -> sr.listChangedBlocks(s1.location(), a.location()));
  }

  /**
   * As sm's FileSR (whose VDIs are leaves over hidden base copies): destroying the data of a
   * snapshot that has a clone succeeds; the snapshot is {@code cbt_metadata}, the clone keeps its
   * bytes, and CBT still answers from the snapshot.
   */
  @Test
  void dataDestroyOfASnapshotWithACloneKeepsTheClone() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_CONFIG_CBT, Capability.VDI_SNAPSHOT, Capability.VDI_CLONE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 8L * MIB, "tracked");
    long size = a.virtualSizeBytes();
    sr.enableCbt(a.location());
    Random random = new Random(82);
    ShadowDisk disk = new ShadowDisk(size);
    VdiDevice d = open(sr, a.location(), true);
    disk.writeRound(d, random, 0);
    VdiInfo s1 = snapshot(sr, a, SnapshotKind.DOUBLE, "s1");
    // The clone starts as s1 was: the leaf's later write is not in it.
    ShadowDisk clone = disk.copy();
    List<Range> x = List.of(new Range(3L * MIB + 5, 70000));
    write(disk, d, random, x);
    d.flush();
    close(sr, a.location());
    VdiInfo c = sr.cloneVdi(s1.location(), VdiMetadata.named("clone of s1"));
    VdiDevice dc = open(sr, c.location(), true);
    clone.assertMatches(dc, "clone of s1");
    clone.writeRound(dc, random, 1);
    close(sr, c.location());

    sr.dataDestroy(s1.location());
    VdiInfo destroyed = scanned(sr, s1.location());
    assertThat(destroyed.metadata().type())
        .as("type of s1 after data destroy")
        .isEqualTo("cbt_metadata");
    expectSomeError(
        "attach of snapshot s1 after its data was destroyed",
        () -> sr.attachVdi(s1.location(), false));
    assertContent(sr, c.location(), clone, "clone of s1 after s1's data was destroyed");
    assertContent(sr, a.location(), disk, "leaf after data destroy of s1");
    assertChanged(sr, s1, a, x, size, "from s1 to the leaf after s1's data was destroyed");
    if (has(Capability.VDI_DELETE)) {
      sr.deleteVdi(s1.location());
      sr.deleteVdi(c.location());
      assertContent(sr, a.location(), disk, "leaf after s1 and its clone were deleted");
    }
  }

  @Test
  void changedBlocksNeedTrackingOverTheWholeSpan() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_CONFIG_CBT, Capability.VDI_SNAPSHOT);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "untracked");
    createWithData(sr, a, 81);
    VdiInfo s0 = snapshot(sr, a, SnapshotKind.DOUBLE, "untracked snapshot");
    expectError(
        SmError.VDI_NO_CBT_METADATA,
        "listChangedBlocks without CBT",
        () -> sr.listChangedBlocks(s0.location(), a.location()));
    sr.enableCbt(a.location());
    VdiInfo s1 = snapshot(sr, a, SnapshotKind.DOUBLE, "tracked snapshot");
    expectError(
        SmError.VDI_NO_CBT_METADATA,
        "listChangedBlocks from a snapshot taken before CBT was enabled",
        () -> sr.listChangedBlocks(s0.location(), s1.location()));
    ChangedBlocks none = sr.listChangedBlocks(s1.location(), a.location());
    assertThat(none.changed())
        .as("changes since a snapshot, with no writes since")
        .isEqualTo(new BitSet());
  }

  @Test
  void generatedConfigActivatesADeviceThatReadsTheVdi() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_GENERATE_CONFIG);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "config");
    ShadowDisk data = createWithData(sr, a, 90);
    String config = sr.generateConfig(a.location());
    assertThat(config).as("generated config").isNotBlank();
    VdiDevice d = sr.activateFromConfig(config);
    data.assertMatches(d, "device activated from a generated config");
    expectError(
        SmError.VDI_IN_USE,
        "attach of a VDI activated from config",
        () -> sr.attachVdi(a.location(), false));
    sr.detachVdi(a.location());
    assertContent(sr, a.location(), data, "VDI after use from a generated config");
  }

  @Test
  void introduceMakesAVdiFoundOnTheStorageKnown() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_INTRODUCE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "original");
    ShadowDisk data = createWithData(sr, a, 91);
    String uuid = UUID.randomUUID().toString();
    String location = fixture().backdoor().copyVdiData(a.location(), uuid);
    VdiMetadata meta = VdiMetadata.named("introduced");
    VdiInfo v = sr.introduceVdi(uuid, location, meta);
    assertThat(v.uuid()).as("uuid of the introduced VDI").isEqualTo(uuid);
    assertThat(v.location()).as("location of the introduced VDI").isEqualTo(location);
    assertThat(v.virtualSizeBytes())
        .as("size of the introduced VDI")
        .isEqualTo(a.virtualSizeBytes());
    assertThat(scanned(sr, location).metadata())
        .as("scanned metadata of the introduced VDI")
        .isEqualTo(meta);
    assertContent(sr, location, data, "introduced VDI");
  }

  @Test
  void composeLaysAChildsWritesOverItsNewParent() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_COMPOSE);
    Sr sr = newSr();
    VdiInfo parent = createVdi(sr, 4L * MIB, "parent");
    VdiInfo child = createVdi(sr, 4L * MIB, "child");
    ShadowDisk base = createWithData(sr, parent, 92);
    ShadowDisk composed = base.copy();
    VdiDevice d = open(sr, child.location(), true);
    ShadowDisk childOnly = new ShadowDisk(child.virtualSizeBytes());
    Random random = new Random(93);
    // Whole sectors, so the child's sectors that were never written read through to the parent.
    for (long off : new long[] {0, 512L * 7, 2L * MIB - 1024, 3L * MIB + 4096}) {
      byte[] b = new byte[2048];
      random.nextBytes(b);
      childOnly.write(d, off, b);
      composed.record(off, b);
    }
    close(sr, child.location());
    sr.compose(parent.location(), child.location());
    assertContent(sr, child.location(), composed, "child after compose over the parent");
    assertContent(sr, parent.location(), base, "parent after compose");
  }

  @Test
  void onlineResizeGrowsAnActiveVdi() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_RESIZE_ONLINE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "growing online");
    ShadowDisk data = createWithData(sr, a, 94);
    VdiDevice d = open(sr, a.location(), true);
    VdiInfo r = sr.resizeOnline(a.location(), 8L * MIB);
    assertThat(r.virtualSizeBytes())
        .as("size after online resize")
        .isGreaterThanOrEqualTo(8L * MIB);
    data.writeRandom(d, new Random(95), MIB, 1000);
    d.flush();
    close(sr, a.location());
    assertContent(sr, a.location(), data.resized(r.virtualSizeBytes()), "VDI after online resize");
  }
}
