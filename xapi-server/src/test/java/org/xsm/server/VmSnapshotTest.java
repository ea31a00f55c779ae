package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.xsm.api.VdiDevice;
import org.xsm.server.model.Ref;
import org.xsm.server.sr.SrService;

/**
 * VM.snapshot and VM.revert through the Java SDK, with disk bytes checked through the plugin's
 * block devices: the seed's "try changes, then throw them away or keep them" and "several snapshots
 * with mutually exclusive changes, switching between them".
 */
@QuarkusTest
class VmSnapshotTest extends SdkTest {
  private static final long MIB = 1024 * 1024;

  @Inject SrService storage;
  @Inject org.xsm.server.domain.simulator.MemoryImages memory;

  private VM vmWithDisks(String name, int disks) throws Exception {
    SR sr = Pool.getAll(c).iterator().next().getDefaultSR(c);
    VM.Record r = new VM.Record();
    r.nameLabel = name;
    r.nameDescription = "before";
    r.otherConfig = Map.of();
    r.memoryStaticMax = 256 * MIB;
    VM vm = VM.create(c, r);
    for (int i = 0; i < disks; i++) {
      VDI.Record d = new VDI.Record();
      d.nameLabel = name + "-disk" + i;
      d.SR = sr;
      d.virtualSize = 8 * MIB;
      d.type = Types.VdiType.USER;
      d.otherConfig = Map.of();
      d.tags = Set.of();
      VDI vdi = VDI.create(c, d);
      VBD.Record b = new VBD.Record();
      b.VM = vm;
      b.VDI = vdi;
      b.userdevice = Integer.toString(i);
      b.mode = Types.VbdMode.RW;
      b.type = Types.VbdType.DISK;
      b.otherConfig = Map.of();
      b.qosAlgorithmParams = Map.of();
      b.qosAlgorithmType = "";
      VBD.create(c, b);
    }
    return vm;
  }

  private List<VDI> disks(VM vm) throws Exception {
    List<VDI> out = new ArrayList<>();
    for (VBD b : vm.getVBDs(c)) {
      out.add(b.getVDI(c));
    }
    out.sort(
        (a, b) -> {
          try {
            return a.getNameLabel(c).compareTo(b.getNameLabel(c));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    return out;
  }

  private void fill(VDI vdi, byte value) throws Exception {
    VdiDevice d = storage.activate(Ref.of(vdi.toWireString()), true);
    byte[] b = new byte[3 * (int) MIB];
    java.util.Arrays.fill(b, value);
    d.write(ByteBuffer.wrap(b), MIB + 7);
    d.flush();
    storage.deactivate(Ref.of(vdi.toWireString()));
  }

  private byte[] read(VDI vdi) throws Exception {
    VdiDevice d = storage.activate(Ref.of(vdi.toWireString()), false);
    try {
      ByteBuffer b = ByteBuffer.allocate((int) d.sizeBytes());
      d.read(b, 0);
      return b.array();
    } finally {
      storage.deactivate(Ref.of(vdi.toWireString()));
    }
  }

  private static byte[] expected(byte value) {
    byte[] e = new byte[8 * (int) MIB];
    java.util.Arrays.fill(e, (int) MIB + 7, (int) MIB + 7 + 3 * (int) MIB, value);
    return e;
  }

  @Test
  void tryChangesThenThrowThemAwayOrKeepThem() throws Exception {
    VM vm = vmWithDisks("try", 2);
    for (VDI d : disks(vm)) {
      fill(d, (byte) 1);
    }
    VM snap = vm.snapshot(c, "before-upgrade");
    VM.Record s = snap.getRecord(c);
    assertThat(s.isASnapshot).isTrue();
    assertThat(s.snapshotOf).isEqualTo(vm);
    assertThat(s.snapshotInfo).containsEntry("power-state-at-snapshot", "Halted");
    assertThat(s.snapshotMetadata).contains("\"name_description\":\"before\"");
    assertThat(vm.getParent(c)).isEqualTo(snap);
    assertThat(vm.getSnapshots(c)).containsExactly(snap);
    assertThat(snap.getVBDs(c)).hasSize(2);
    for (VDI sd : disks(snap)) {
      assertThat(sd.getIsASnapshot(c)).isTrue();
      assertThat(read(sd)).isEqualTo(expected((byte) 1));
    }
    assertThatThrownBy(() -> snap.start(c, false, false))
        .isInstanceOf(Types.XenAPIException.class)
        .satisfies(
            e ->
                assertThat(((Types.XenAPIException) e).errorDescription[0])
                    .isEqualTo("VM_IS_SNAPSHOT"));

    // The "upgrade": new bytes, a new description, running.
    for (VDI d : disks(vm)) {
      fill(d, (byte) 2);
    }
    vm.setNameDescription(c, "after");
    vm.start(c, false, false);
    for (VDI sd : disks(snap)) {
      assertThat(read(sd)).as("a snapshot never changes").isEqualTo(expected((byte) 1));
    }

    // Throw the changes away.
    snap.revert(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.HALTED);
    assertThat(vm.getNameDescription(c)).isEqualTo("before");
    assertThat(vm.getParent(c)).isEqualTo(snap);
    List<VDI> now = disks(vm);
    assertThat(now).hasSize(2);
    for (VDI d : now) {
      assertThat(read(d)).isEqualTo(expected((byte) 1));
      assertThat(d.getIsASnapshot(c)).isFalse();
    }
    for (VDI sd : disks(snap)) {
      assertThat(now).contains(sd.getSnapshotOf(c));
    }

    // Keep the next changes: delete the snapshot, the VM's disks stay as they are.
    for (VDI d : now) {
      fill(d, (byte) 3);
    }
    List<VDI> snapDisks = disks(snap);
    snap.destroy(c);
    for (VDI sd : snapDisks) {
      sd.destroy(c);
    }
    for (VDI d : disks(vm)) {
      assertThat(read(d)).isEqualTo(expected((byte) 3));
    }
  }

  @Test
  void mutuallyExclusiveBranchesAndSwitchingBetweenThem() throws Exception {
    VM vm = vmWithDisks("branches", 1);
    fill(disks(vm).get(0), (byte) 10);
    VM base = vm.snapshot(c, "base");
    fill(disks(vm).get(0), (byte) 11);
    VM branchA = vm.snapshot(c, "A");
    base.revert(c);
    fill(disks(vm).get(0), (byte) 12);
    VM branchB = vm.snapshot(c, "B");
    assertThat(branchA.getParent(c)).isEqualTo(base);
    assertThat(branchB.getParent(c)).isEqualTo(base);
    assertThat(base.getChildren(c)).containsExactlyInAnyOrder(branchA, branchB);

    branchA.revert(c);
    assertThat(read(disks(vm).get(0))).isEqualTo(expected((byte) 11));
    assertThat(vm.getParent(c)).isEqualTo(branchA);
    branchB.revert(c);
    assertThat(read(disks(vm).get(0))).isEqualTo(expected((byte) 12));
    base.revert(c);
    assertThat(read(disks(vm).get(0))).isEqualTo(expected((byte) 10));
    // Every snapshot still holds exactly its bytes.
    assertThat(read(disks(base).get(0))).isEqualTo(expected((byte) 10));
    assertThat(read(disks(branchA).get(0))).isEqualTo(expected((byte) 11));
    assertThat(read(disks(branchB).get(0))).isEqualTo(expected((byte) 12));
  }

  @Test
  void revertRecreatesADeletedVm() throws Exception {
    VM vm = vmWithDisks("phoenix", 1);
    fill(disks(vm).get(0), (byte) 5);
    VM snap = vm.snapshot(c, "s");
    for (VDI d : disks(vm)) {
      VBD b = d.getVBDs(c).iterator().next();
      b.destroy(c);
      d.destroy(c);
    }
    vm.destroy(c);
    snap.revert(c);
    VM back = snap.getSnapshotOf(c);
    assertThat(back.getNameLabel(c)).isEqualTo("phoenix");
    assertThat(read(disks(back).get(0))).isEqualTo(expected((byte) 5));
  }

  @Test
  void checkpointSavesARunningVmForLaterDebuggingWhileItRunsOn() throws Exception {
    VM vm = vmWithDisks("debugme", 1);
    fill(disks(vm).get(0), (byte) 7);
    vm.start(c, false, false);
    Thread.sleep(100);
    VM cp = vm.checkpoint(c, "when it broke");
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.RUNNING);
    assertThat(cp.getPowerState(c)).isEqualTo(Types.VmPowerState.SUSPENDED);
    assertThat(cp.getSnapshotInfo(c)).containsEntry("power-state-at-snapshot", "Running");
    VDI image = cp.getSuspendVDI(c);
    assertThat(image.getType(c)).isEqualTo(Types.VdiType.SUSPEND);
    byte[] saved =
        java.util.Arrays.copyOf(
            read(image), org.xsm.server.domain.simulator.MemoryImages.SIZE_BYTES);

    // The VM runs on: its memory moves away from the saved image.
    assertThat(memoryAfterAGuestTick(vm)).isNotEqualTo(saved);
    vm.hardShutdown(c);
    fill(disks(vm).get(0), (byte) 8);

    // Later: revert to the checkpoint and resume (paused, so the guest does not move on).
    cp.revert(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.SUSPENDED);
    assertThat(read(disks(vm).get(0))).isEqualTo(expected((byte) 7));
    vm.resume(c, true, false);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.PAUSED);
    assertThat(memory.snapshot(vm.getUuid(c))).isEqualTo(saved);
    // The checkpoint's own image is untouched and can be reverted to again.
    assertThat(java.util.Arrays.copyOf(read(image), saved.length)).isEqualTo(saved);
    vm.hardShutdown(c);
  }

  @Test
  void suspendKeepsMemoryOnTheSr() throws Exception {
    VM vm = vmWithDisks("sleeper", 1);
    vm.start(c, false, false);
    byte[] t0 = memory.snapshot(vm.getUuid(c));
    assertThat(memoryAfterAGuestTick(vm)).as("a running guest changes its memory").isNotEqualTo(t0);
    vm.suspend(c);
    VDI image = vm.getSuspendVDI(c);
    assertThat(image.getType(c)).isEqualTo(Types.VdiType.SUSPEND);
    byte[] saved =
        java.util.Arrays.copyOf(
            read(image), org.xsm.server.domain.simulator.MemoryImages.SIZE_BYTES);
    vm.resume(c, true, false);
    assertThat(vm.getSuspendVDI(c).toWireString()).isEqualTo("OpaqueRef:NULL");
    assertThat(memory.snapshot(vm.getUuid(c))).isEqualTo(saved);
    vm.hardShutdown(c);
  }

  @Test
  void newVmsFromASnapshotByCloneAndCopyAreIndependent() throws Exception {
    VM vm = vmWithDisks("template-ish", 1);
    fill(disks(vm).get(0), (byte) 21);
    VM snap = vm.snapshot(c, "golden");
    VM cloned = snap.createClone(c, "from-golden");
    VM copied = snap.copy(c, "copy-of-golden", Pool.getAll(c).iterator().next().getDefaultSR(c));
    for (VM v : List.of(cloned, copied)) {
      assertThat(v.getIsASnapshot(c)).isFalse();
      assertThat(v.getPowerState(c)).isEqualTo(Types.VmPowerState.HALTED);
      assertThat(read(disks(v).get(0))).isEqualTo(expected((byte) 21));
    }
    fill(disks(cloned).get(0), (byte) 22);
    assertThat(read(disks(copied).get(0))).isEqualTo(expected((byte) 21));
    assertThat(read(disks(snap).get(0))).isEqualTo(expected((byte) 21));
    cloned.start(c, false, false);
    cloned.hardShutdown(c);
  }

  @Test
  void deletingSnapshotsLetsTheGcReclaimTheSpace() throws Exception {
    SR sr = Pool.getAll(c).iterator().next().getDefaultSR(c);
    VM vm = vmWithDisks("reclaim", 1);
    fill(disks(vm).get(0), (byte) 31);
    sr.scan(c);
    long before = sr.getPhysicalUtilisation(c);
    List<VM> snaps = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      snaps.add(vm.snapshot(c, "s" + i));
      fill(disks(vm).get(0), (byte) (32 + i));
    }
    sr.scan(c);
    long withSnapshots = sr.getPhysicalUtilisation(c);
    assertThat(withSnapshots).isGreaterThan(before);
    for (VM s : snaps) {
      List<VDI> sd = disks(s);
      s.destroy(c);
      for (VDI d : sd) {
        d.destroy(c);
      }
    }
    // The SR's collector (quiet period shortened for tests) merges the chain back.
    long deadline = System.currentTimeMillis() + 30_000;
    long now;
    do {
      Thread.sleep(200);
      sr.scan(c);
      now = sr.getPhysicalUtilisation(c);
    } while (now > before + 2 * MIB && System.currentTimeMillis() < deadline);
    assertThat(now)
        .as("physical utilisation after deletes and GC")
        .isLessThanOrEqualTo(before + 2 * MIB);
    assertThat(read(disks(vm).get(0))).isEqualTo(expected((byte) 35));
  }

  /** The VM's memory after its guest has written another page (a tick of the simulated guest). */
  private byte[] memoryAfterAGuestTick(VM vm) throws Exception {
    memory.tick();
    return memory.snapshot(vm.getUuid(c));
  }
}
