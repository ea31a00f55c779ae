package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.xsm.api.Capability;
import org.xsm.api.SmError;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrStats;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;

/** Scans (also after changes behind the driver's back), metadata, space figures, resize. */
public abstract class ScanConformance extends ConcurrencyConformance {

  @Test
  void scanListsVdisAddedBehindTheDriversBack() throws Exception {
    assumeVdiIo();
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 6L * MIB, "original");
    ShadowDisk data = createWithData(sr, a, 60);
    String copyUuid = UUID.randomUUID().toString();
    String copy = fixture().backdoor().copyVdiData(a.location(), copyUuid);
    VdiInfo found = scanned(sr, copy);
    assertThat(found.uuid())
        .as("uuid of the VDI added behind the driver's back")
        .isEqualTo(copyUuid);
    assertThat(found.virtualSizeBytes()).as("its virtual size").isEqualTo(a.virtualSizeBytes());
    assertThat(List.of(found.managed(), found.readOnly()))
        .as("its managed, readOnly")
        .containsExactly(true, false);
    assertContent(sr, copy, data, "VDI added behind the driver's back");
    assertContent(sr, a.location(), data, "the VDI it was copied from");

    if (has(Capability.VDI_SNAPSHOT)) {
      // A copy of a leaf that sits over a base copy shares that parent.
      VdiInfo s = snapshot(sr, a, SnapshotKind.DOUBLE, "snap");
      VdiDevice d = open(sr, a.location(), true);
      ShadowDisk later = data.copy();
      later.writeRound(d, new Random(61), 1);
      d.flush();
      close(sr, a.location());
      String childUuid = UUID.randomUUID().toString();
      String child = fixture().backdoor().copyVdiData(a.location(), childUuid);
      VdiInfo foundChild = scanned(sr, child);
      assertThat(foundChild.uuid()).as("uuid of the copied child").isEqualTo(childUuid);
      assertThat(foundChild.virtualSizeBytes())
          .as("size of the copied child")
          .isEqualTo(a.virtualSizeBytes());
      assertContent(sr, child, later, "copy of a leaf over a base copy");
      assertContent(sr, s.location(), data, "snapshot after its sibling was copied");
      assertContent(sr, a.location(), later, "leaf after it was copied");
    }
  }

  @Test
  void scanForgetsVdisRemovedBehindTheDriversBack() throws Exception {
    assumeVdiIo();
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "kept");
    VdiInfo b = createVdi(sr, 6L * MIB, "removed");
    ShadowDisk data = createWithData(sr, a, 62);
    createWithData(sr, b, 63);
    assertThat(locations(sr.scan())).containsExactlyInAnyOrder(a.location(), b.location());
    fixture().backdoor().removeVdiData(b.location());
    assertThat(locations(sr.scan()))
        .as("scan after removing %s behind the driver's back", b.location())
        .containsExactly(a.location());
    expectError(
        SmError.VDI_MISSING,
        "attach of a VDI removed behind the driver's back",
        () -> sr.attachVdi(b.location(), false));
    if (has(Capability.VDI_DELETE)) {
      expectError(
          SmError.VDI_MISSING,
          "delete of a VDI removed behind the driver's back",
          () -> sr.deleteVdi(b.location()));
    }
    assertThat(sr.stats().virtualAllocationBytes())
        .as("virtual allocation after the removal")
        .isEqualTo(a.virtualSizeBytes());
    assertContent(sr, a.location(), data, "the other VDI");
  }

  @Test
  void metadataComesBackFromScanAndSurvivesReattach() throws Exception {
    assumeCapabilities(Capability.VDI_CREATE);
    Sr sr = newSr();
    VdiMetadata created =
        new VdiMetadata(
            "Disk ü \"quoted\" <x> & = ; # \\ end\nsecond line",
            "tab\there",
            "user",
            false,
            null,
            null);
    VdiInfo a = sr.createVdi(4L * MIB, created);
    assertThat(a.metadata()).as("metadata returned by create").isEqualTo(created);
    assertThat(scanned(sr, a.location()).metadata())
        .as("scanned metadata after create")
        .isEqualTo(created);
    VdiMetadata expected = created;
    if (has(Capability.VDI_UPDATE)) {
      expected = new VdiMetadata("renamed", "now a system disk", "system", false, null, null);
      sr.updateVdi(a.location(), expected);
      assertThat(scanned(sr, a.location()).metadata())
          .as("scanned metadata after update")
          .isEqualTo(expected);
    }
    VdiInfo s = null;
    VdiMetadata snapMeta = null;
    if (has(Capability.VDI_SNAPSHOT)) {
      snapMeta = snapshotMetadata(a, "snapshot with metadata");
      s = sr.snapshot(a.location(), SnapshotKind.DOUBLE, snapMeta);
      assertThat(scanned(sr, s.location()).metadata())
          .as("scanned snapshot metadata")
          .isEqualTo(snapMeta);
      assertThat(scanned(sr, a.location()).metadata())
          .as("source metadata after a snapshot")
          .isEqualTo(expected);
    }
    if (has(Capability.VDI_ATTACH) && has(Capability.VDI_ACTIVATE)) {
      open(sr, a.location(), true);
      close(sr, a.location());
      assertThat(scanned(sr, a.location()).metadata())
          .as("metadata after VDI attach/detach")
          .isEqualTo(expected);
    }
    Sr again = reattach(sr);
    assertThat(scanned(again, a.location()).metadata())
        .as("metadata after SR re-attach")
        .isEqualTo(expected);
    if (s != null) {
      assertThat(scanned(again, s.location()).metadata())
          .as("snapshot metadata after SR re-attach")
          .isEqualTo(snapMeta);
    }
  }

  @Test
  void virtualAllocationIsTheSumOfManagedVirtualSizes() throws Exception {
    assumeCapabilities(Capability.VDI_CREATE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    VdiInfo b = createVdi(sr, 6L * MIB, "b");
    long expected = a.virtualSizeBytes() + b.virtualSizeBytes();
    assertThat(sr.stats().virtualAllocationBytes())
        .as("allocation of two VDIs")
        .isEqualTo(expected);
    if (has(Capability.VDI_SNAPSHOT)) {
      VdiInfo s = snapshot(sr, a, SnapshotKind.DOUBLE, "s");
      expected += s.virtualSizeBytes();
      assertThat(sr.stats().virtualAllocationBytes())
          .as("allocation after a DOUBLE snapshot (counting the snapshot, not the base copy)")
          .isEqualTo(expected);
    }
    if (has(Capability.VDI_DELETE)) {
      sr.deleteVdi(b.location());
      expected -= b.virtualSizeBytes();
      assertThat(sr.stats().virtualAllocationBytes())
          .as("allocation after a delete")
          .isEqualTo(expected);
    }
    long managedSum =
        sr.scan().stream().filter(VdiInfo::managed).mapToLong(VdiInfo::virtualSizeBytes).sum();
    assertThat(managedSum).as("sum of the scanned managed VDIs' sizes").isEqualTo(expected);
    SrStats stats = sr.stats();
    assertThat(stats.physicalSizeBytes()).as("physical size").isPositive();
    assertThat(stats.physicalUtilisationBytes())
        .as("physical utilisation")
        .isNotNegative()
        .isLessThanOrEqualTo(stats.physicalSizeBytes());
  }

  @Test
  void thinProvisionedVdisUseSpaceOnlyForData() throws Exception {
    assumeCapabilities(Capability.THIN_PROVISIONING, Capability.VDI_CREATE);
    Sr sr = newSr();
    long size = 1024L * MIB;
    VdiInfo big = createVdi(sr, size, "big");
    assertThat(big.physicalUtilisationBytes())
        .as("physical utilisation of a new 1 GiB VDI")
        .isLessThan(size / 16);
    assertThat(scanned(sr, big.location()).physicalUtilisationBytes())
        .as("scanned physical utilisation of a new 1 GiB VDI")
        .isLessThan(size / 16);
    if (has(Capability.VDI_ATTACH) && has(Capability.VDI_ACTIVATE)) {
      VdiDevice d = open(sr, big.location(), true);
      byte[] data = new byte[MIB];
      new Random(64).nextBytes(data);
      d.write(ByteBuffer.wrap(data), 512L * MIB);
      d.flush();
      close(sr, big.location());
      assertThat(scanned(sr, big.location()).physicalUtilisationBytes())
          .as("physical utilisation of a 1 GiB VDI holding 1 MiB")
          .isGreaterThanOrEqualTo(MIB)
          .isLessThan(size / 16);
    }
  }

  @Test
  void resizeKeepsDataAndNewSpaceReadsZeros() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_RESIZE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "growing");
    ShadowDisk data = createWithData(sr, a, 65);
    VdiInfo s = null;
    if (has(Capability.VDI_SNAPSHOT)) {
      s = snapshot(sr, a, SnapshotKind.DOUBLE, "before resize");
    }
    if (has(Capability.VDI_ATTACH)) {
      sr.attachVdi(a.location(), true);
      expectError(
          SmError.VDI_IN_USE,
          "resize of an attached VDI (online resize is a separate operation)",
          () -> sr.resize(a.location(), 9L * MIB));
      sr.detachVdi(a.location());
      assertThat(scanned(sr, a.location()).virtualSizeBytes())
          .as("size after the refused resize")
          .isEqualTo(a.virtualSizeBytes());
    }
    VdiInfo r = sr.resize(a.location(), 9L * MIB);
    assertThat(r.location()).as("location after resize").isEqualTo(a.location());
    assertThat(r.virtualSizeBytes())
        .as("size after resize to 9 MiB")
        .isGreaterThanOrEqualTo(9L * MIB);
    assertThat(scanned(sr, a.location()).virtualSizeBytes())
        .as("scanned size after resize")
        .isEqualTo(r.virtualSizeBytes());
    ShadowDisk grown = data.resized(r.virtualSizeBytes());
    VdiDevice d = open(sr, a.location(), true);
    grown.assertMatches(d, "resized VDI: old data kept, new space zeros");
    grown.writeRandom(d, new Random(66), r.virtualSizeBytes() - 3000, 3000);
    grown.writeRandom(d, new Random(67), a.virtualSizeBytes() - 100, 200);
    d.flush();
    close(sr, a.location());

    Map<String, String> before = managedSummary(sr);
    expectError(
        SmError.VDI_SIZE,
        "shrink from " + r.virtualSizeBytes() + " to 2 MiB",
        () -> sr.resize(a.location(), 2L * MIB));
    assertThat(managedSummary(sr)).as("VDIs after the refused shrink").isEqualTo(before);
    assertContent(sr, a.location(), grown, "resized VDI after the refused shrink");
    if (s != null) {
      assertThat(scanned(sr, s.location()).virtualSizeBytes())
          .as("size of the snapshot taken before the resize")
          .isEqualTo(a.virtualSizeBytes());
      assertContent(sr, s.location(), data, "snapshot taken before the resize");
    }
  }

  @Test
  void detachAndReattachKeepsVdisAndData() throws Exception {
    assumeVdiIo();
    Sr sr = newSr();
    Random random = new Random(70);
    VdiInfo a = createVdi(sr, 8L * MIB, "a");
    VdiInfo empty = createVdi(sr, 2L * MIB, "empty");
    Map<String, ShadowDisk> contents = new TreeMap<>();
    ShadowDisk leaf = createWithData(sr, a, 71);
    if (has(Capability.VDI_SNAPSHOT)) {
      VdiInfo s = snapshot(sr, a, SnapshotKind.DOUBLE, "s");
      contents.put(s.location(), leaf.copy());
    }
    if (has(Capability.VDI_CLONE)) {
      VdiInfo c = sr.cloneVdi(a.location(), VdiMetadata.named("c"));
      ShadowDisk clone = leaf.copy();
      VdiDevice dc = open(sr, c.location(), true);
      clone.writeRound(dc, random, 1);
      close(sr, c.location());
      contents.put(c.location(), clone);
    }
    VdiDevice d = open(sr, a.location(), true);
    leaf.writeRound(d, random, 2);
    close(sr, a.location());
    contents.put(a.location(), leaf);
    contents.put(empty.location(), new ShadowDisk(empty.virtualSizeBytes()));
    Map<String, String> before = fullSummary(sr.scan());

    Sr again = reattach(sr);
    assertThat(fullSummary(again.scan())).as("scan after SR detach and attach").isEqualTo(before);
    for (Map.Entry<String, ShadowDisk> e : contents.entrySet()) {
      assertContent(again, e.getKey(), e.getValue(), "VDI after SR detach and attach");
    }
    VdiDevice d2 = open(again, a.location(), true);
    leaf.writeRound(d2, random, 3);
    close(again, a.location());
    assertContent(again, a.location(), leaf, "VDI written after SR re-attach");
  }

  /** Everything a scan says that must survive a detach and attach, by location. */
  private static Map<String, String> fullSummary(List<VdiInfo> scan) {
    Map<String, String> m = new TreeMap<>();
    for (VdiInfo v : scan) {
      m.put(
          v.location(),
          v.uuid()
              + " size="
              + v.virtualSizeBytes()
              + " ro="
              + v.readOnly()
              + " managed="
              + v.managed()
              + " cbt="
              + v.cbtEnabled()
              + " "
              + v.metadata());
    }
    return m;
  }
}
