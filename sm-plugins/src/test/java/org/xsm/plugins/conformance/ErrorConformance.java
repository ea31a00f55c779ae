package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.xsm.api.Capability;
import org.xsm.api.SmError;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;

/**
 * The error codes of refused operations, and that a refused operation changes nothing: every VDI
 * involved still reads exactly as before, and the scan is the same.
 */
public abstract class ErrorConformance extends BasicConformance {

  @Test
  void readOnlyDeviceRefusesWrites() throws Exception {
    assumeVdiIo();
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk disk = createWithData(sr, a, 3);
    VdiDevice ro = open(sr, a.location(), false);
    expectError(
        SmError.VDI_UNAVAILABLE,
        "write to a read-only device",
        () -> ro.write(ByteBuffer.wrap(new byte[4096]), 0));
    expectError(
        SmError.VDI_UNAVAILABLE,
        "write to a read-only device at 3 MiB + 1",
        () -> ro.write(ByteBuffer.wrap(new byte[100]), 3L * MIB + 1));
    disk.assertMatches(ro, "read-only device after refused writes");
    close(sr, a.location());
    VdiDevice rw = open(sr, a.location(), true);
    disk.assertMatches(rw, "VDI after refused writes, attached rw");
  }

  @Test
  void ioOutsideTheDiskFailsWithBadRequest() throws Exception {
    assumeVdiIo();
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk disk = createWithData(sr, a, 4);
    VdiDevice d = open(sr, a.location(), true);
    long size = d.sizeBytes();
    expectError(
        SmError.BAD_REQUEST,
        "read across the end",
        () -> d.read(ByteBuffer.allocate(1024), size - 512));
    expectError(
        SmError.BAD_REQUEST, "read past the end", () -> d.read(ByteBuffer.allocate(512), size));
    expectError(SmError.BAD_REQUEST, "read at -512", () -> d.read(ByteBuffer.allocate(512), -512));
    expectError(
        SmError.BAD_REQUEST,
        "read at Long.MAX_VALUE - 10 (overflow)",
        () -> d.read(ByteBuffer.allocate(100), Long.MAX_VALUE - 10));
    byte[] junk = new byte[1024];
    Arrays.fill(junk, (byte) 0x5a);
    expectError(
        SmError.BAD_REQUEST,
        "write across the end",
        () -> d.write(ByteBuffer.wrap(junk), size - 512));
    expectError(
        SmError.BAD_REQUEST, "write past the end", () -> d.write(ByteBuffer.wrap(junk), size));
    expectError(SmError.BAD_REQUEST, "write at -1", () -> d.write(ByteBuffer.wrap(junk), -1));
    expectError(
        SmError.BAD_REQUEST,
        "write at Long.MAX_VALUE - 100 (overflow)",
        () -> d.write(ByteBuffer.wrap(junk), Long.MAX_VALUE - 100));
    disk.assertMatches(d, "after refused I/O (the in-range part of a refused write must not land)");
    disk.writeRandom(d, new Random(5), size - 4096, 4096);
    disk.assertMatches(d, "device still works after refused I/O");
    d.flush();
    close(sr, a.location());
    assertContent(sr, a.location(), disk, "after refused I/O");
  }

  @Test
  void deletingAnAttachedVdiFailsWithVdiInUse() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_DELETE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk disk = createWithData(sr, a, 6);
    VdiDevice rw = open(sr, a.location(), true);
    expectError(
        SmError.VDI_IN_USE, "delete of a rw-attached VDI", () -> sr.deleteVdi(a.location()));
    disk.writeRandom(rw, new Random(7), MIB + 3, 5000);
    disk.assertMatches(rw, "VDI after refused delete");
    close(sr, a.location());
    sr.attachVdi(a.location(), false);
    expectError(
        SmError.VDI_IN_USE,
        "delete of a VDI attached ro, not activated",
        () -> sr.deleteVdi(a.location()));
    sr.detachVdi(a.location());
    assertThat(locations(sr.scan())).as("scan after refused deletes").contains(a.location());
    assertContent(sr, a.location(), disk, "VDI after refused deletes");
  }

  @Test
  void unknownLocationsFailWithVdiMissing() throws Exception {
    Sr sr = newSr();
    String a = has(Capability.VDI_CREATE) ? createVdi(sr, 4L * MIB, "a").location() : null;
    if (a != null && has(Capability.VDI_CONFIG_CBT)) {
      // So that the unknown location is the only thing wrong with listChangedBlocks(missing, a).
      sr.enableCbt(a);
    }
    Map<String, String> before = managedSummary(sr);
    String missing = randomLocation();
    VdiMetadata meta = VdiMetadata.named("x");
    Map<Capability, SmCall> calls = new LinkedHashMap<>();
    calls.put(Capability.VDI_DELETE, () -> sr.deleteVdi(missing));
    calls.put(Capability.VDI_ATTACH, () -> sr.attachVdi(missing, false));
    calls.put(Capability.VDI_SNAPSHOT, () -> sr.snapshot(missing, SnapshotKind.DOUBLE, meta));
    calls.put(Capability.VDI_CLONE, () -> sr.cloneVdi(missing, meta));
    calls.put(Capability.VDI_RESIZE, () -> sr.resize(missing, 8L * MIB));
    calls.put(Capability.VDI_RESIZE_ONLINE, () -> sr.resizeOnline(missing, 8L * MIB));
    calls.put(Capability.VDI_UPDATE, () -> sr.updateVdi(missing, meta));
    calls.put(Capability.VDI_INTRODUCE, () -> sr.introduceVdi(missing, missing, meta));
    calls.put(Capability.VDI_GENERATE_CONFIG, () -> sr.generateConfig(missing));
    calls.put(Capability.VDI_CONFIG_CBT, () -> sr.enableCbt(missing));
    int checked = 0;
    for (Map.Entry<Capability, SmCall> c : calls.entrySet()) {
      if (has(c.getKey())) {
        expectError(
            SmError.VDI_MISSING, c.getKey() + " of unknown location " + missing, c.getValue());
        checked++;
      }
    }
    if (has(Capability.VDI_CONFIG_CBT)) {
      expectError(
          SmError.VDI_MISSING, "disableCbt of an unknown location", () -> sr.disableCbt(missing));
      expectError(
          SmError.VDI_MISSING, "dataDestroy of an unknown location", () -> sr.dataDestroy(missing));
      if (a != null) {
        expectError(
            SmError.VDI_MISSING,
            "listChangedBlocks from an unknown location",
            () -> sr.listChangedBlocks(missing, a));
      }
    }
    if (has(Capability.VDI_COMPOSE) && a != null) {
      expectError(
          SmError.VDI_MISSING, "compose onto an unknown parent", () -> sr.compose(missing, a));
    }
    assumeTrue(checked > 0, "driver advertises no operation on a VDI location");
    assertThat(managedSummary(sr)).as("VDIs after refused calls").isEqualTo(before);
  }

  @Test
  void detachingAnSrWithAttachedVdisFailsWithSrInUse() throws Exception {
    assumeVdiIo();
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    VdiInfo b = createVdi(sr, 4L * MIB, "b");
    ShadowDisk disk = createWithData(sr, a, 8);
    VdiDevice d = open(sr, a.location(), true);
    expectError(SmError.SR_IN_USE, "detach of an SR with an active VDI", sr::detach);
    disk.writeRandom(d, new Random(9), 2L * MIB - 10, 20);
    disk.assertMatches(d, "active VDI after refused SR detach");
    assertThat(locations(sr.scan()))
        .as("scan after refused SR detach")
        .containsExactlyInAnyOrder(a.location(), b.location());
    close(sr, a.location());
    sr.attachVdi(b.location(), false);
    expectError(SmError.SR_IN_USE, "detach of an SR with an attached (inactive) VDI", sr::detach);
    sr.detachVdi(b.location());
    Sr again = reattach(sr);
    assertContent(again, a.location(), disk, "VDI after SR detach and attach");
  }

  @Test
  void vdiOfAnOddSizeWorksToItsLastByte() throws Exception {
    assumeVdiIo();
    Sr sr = newSr();
    long asked = 3L * MIB + 3 * 512 + 1;
    VdiInfo a = createVdi(sr, asked, "odd size");
    VdiDevice d = open(sr, a.location(), true);
    assertThat(d.sizeBytes()).as("device size").isEqualTo(a.virtualSizeBytes());
    ShadowDisk disk = new ShadowDisk(a.virtualSizeBytes());
    disk.writeRound(d, new Random(10), 0);
    disk.writeRandom(d, new Random(11), a.virtualSizeBytes() - 1, 1);
    expectError(
        SmError.BAD_REQUEST,
        "write of 2 bytes at the last byte",
        () -> d.write(ByteBuffer.wrap(new byte[2]), a.virtualSizeBytes() - 1));
    d.flush();
    close(sr, a.location());
    Sr again = reattach(sr);
    assertThat(scanned(again, a.location()).virtualSizeBytes())
        .as("scanned size after re-attach")
        .isEqualTo(a.virtualSizeBytes());
    assertContent(again, a.location(), disk, "odd-sized VDI after re-attach");
  }
}
