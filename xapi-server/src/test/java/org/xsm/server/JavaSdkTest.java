package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Event;
import com.xensource.xenapi.EventBatch;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Task;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The server driven by the real XenServer Java SDK (com.citrix.hypervisor:xen-api:8.1.0). */
@QuarkusTest
class JavaSdkTest extends SdkTest {
  private static final long MIB = 1024 * 1024;

  /** A disk whose other_config says it came from the SDK (one test checks that it is kept). */
  private VDI originVdi(String name, long size) throws Exception {
    return newVdi(c, defaultSr(), name, size, Map.of("origin", "java-sdk"));
  }

  @Test
  void loginSetsTheApiVersionAndRecordsRead() throws Exception {
    // SDK 8.1.0 predates API 2.21, so its version enum says "Unknown"; login reads the host's
    // version through session.get_this_host and host.get_API_version_major/minor, checked here.
    assertThat(c.getSessionReference()).startsWith("OpaqueRef:");
    Host host = Host.getAll(c).iterator().next();
    Host.Record h = host.getRecord(c);
    assertThat(h.APIVersionMajor).isEqualTo(2L);
    assertThat(h.APIVersionMinor).isEqualTo(21L);
    Pool.Record p = Pool.getAll(c).iterator().next().getRecord(c);
    assertThat(p.master).isEqualTo(host);
    SR.Record sr = defaultSr().getRecord(c);
    assertThat(sr.type).isEqualTo("ext");
    assertThat(sr.PBDs).hasSize(1);
    assertThat(sr.physicalSize).isPositive();
  }

  @Test
  void vdiCreateSnapshotCloneDestroy() throws Exception {
    VDI vdi = originVdi("disk", 64 * MIB);
    VDI.Record r = vdi.getRecord(c);
    assertThat(r.virtualSize).isEqualTo(64 * MIB);
    assertThat(r.nameLabel).isEqualTo("disk");
    assertThat(r.otherConfig).containsEntry("origin", "java-sdk");
    assertThat(r.SR).isEqualTo(defaultSr());
    assertThat(defaultSr().getVDIs(c)).contains(vdi);

    VDI snap = vdi.snapshot(c, Map.of());
    VDI.Record s = snap.getRecord(c);
    assertThat(s.isASnapshot).isTrue();
    assertThat(s.snapshotOf).isEqualTo(vdi);
    assertThat(s.readOnly).isTrue();
    assertThat(vdi.getSnapshots(c)).containsExactly(snap);
    assertThat(s.snapshotTime).isNotNull();

    VDI clone = snap.createClone(c, Map.of());
    assertThat(clone.getIsASnapshot(c)).isFalse();
    assertThat(clone.getReadOnly(c)).isFalse();
    assertThat(clone.getVirtualSize(c)).isEqualTo(64 * MIB);

    vdi.resize(c, 128 * MIB);
    assertThat(vdi.getVirtualSize(c)).isEqualTo(128 * MIB);

    clone.destroy(c);
    snap.destroy(c);
    vdi.destroy(c);
    Set<VDI> all = VDI.getAll(c);
    assertThat(all).doesNotContain(vdi, snap, clone);
  }

  @Test
  void asyncCallsRunAsTasks() throws Exception {
    VDI vdi = originVdi("async", 8 * MIB);
    Task t = vdi.snapshotAsync(c, Map.of());
    long deadline = System.currentTimeMillis() + 20_000;
    while (t.getStatus(c) == Types.TaskStatusType.PENDING
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    assertThat(t.getStatus(c)).isEqualTo(Types.TaskStatusType.SUCCESS);
    VDI snap = Types.toVDI(t, c);
    assertThat(snap.getSnapshotOf(c)).isEqualTo(vdi);
    t.destroy(c);

    Task bad = VDI.getByUuid(c, vdi.getUuid(c)).resizeAsync(c, 1L);
    while (bad.getStatus(c) == Types.TaskStatusType.PENDING) {
      Thread.sleep(20);
    }
    assertThat(bad.getStatus(c)).isEqualTo(Types.TaskStatusType.FAILURE);
    assertThat(bad.getErrorInfo(c)).first().asString().startsWith("SR_BACKEND_FAILURE_");
  }

  @Test
  void errorsArriveAsTheirSdkClasses() throws Exception {
    VDI missing = Types.toVDI("OpaqueRef:00000000-0000-0000-0000-000000000000");
    assertThatThrownBy(() -> missing.getRecord(c)).isInstanceOf(Types.HandleInvalid.class);
    assertThatThrownBy(() -> VDI.getByUuid(c, "no-such-uuid"))
        .isInstanceOf(Types.UuidInvalid.class);
    Connection other = new Connection(url);
    assertThatThrownBy(() -> Session.loginWithPassword(other, "root", "wrong", "2.21"))
        .isInstanceOf(Types.SessionAuthenticationFailed.class);
    Connection stale = new Connection(url);
    Session.loginWithPassword(stale, "root", "xsm-test-root", "2.21");
    Session.logout(stale);
    assertThatThrownBy(() -> VDI.getAll(stale)).isInstanceOf(Types.SessionInvalid.class);
  }

  @Test
  void vmPowerStateMachineAttachesDisks() throws Exception {
    VM.Record r = new VM.Record();
    r.nameLabel = "vm1";
    r.nameDescription = "";
    r.memoryStaticMax = 256 * MIB;
    r.memoryDynamicMax = 256 * MIB;
    r.memoryDynamicMin = 256 * MIB;
    r.memoryStaticMin = 256 * MIB;
    r.VCPUsMax = 1L;
    r.VCPUsAtStartup = 1L;
    r.isATemplate = false;
    r.otherConfig = Map.of();
    VM vm = VM.create(c, r);
    VDI disk = originVdi("vm1-disk", 8 * MIB);
    VBD vbd = SdkTest.attachDisk(c, vm, disk, "0");
    assertThat(vm.getVBDs(c)).containsExactly(vbd);
    assertThat(disk.getVBDs(c)).containsExactly(vbd);

    assertThatThrownBy(() -> vm.cleanShutdown(c)).isInstanceOf(Types.VmBadPowerState.class);
    vm.start(c, false, false);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.RUNNING);
    assertThat(vbd.getCurrentlyAttached(c)).isTrue();
    assertThatThrownBy(() -> disk.destroy(c)).isInstanceOf(Types.VdiInUse.class);
    vm.pause(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.PAUSED);
    vm.unpause(c);
    vm.suspend(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.SUSPENDED);
    vm.resume(c, false, false);
    vm.hardShutdown(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.HALTED);
    assertThat(vbd.getCurrentlyAttached(c)).isFalse();
    vm.destroy(c);
    disk.destroy(c);
  }

  @Test
  void eventsReportChanges() throws Exception {
    Set<String> classes = new HashSet<>(Set.of("vdi"));
    EventBatch first = Event.from(c, classes, "", 0.1);
    VDI vdi = originVdi("evented", 4 * MIB);
    EventBatch next = Event.from(c, classes, first.token, 5.0);
    assertThat(next.events)
        .anySatisfy(
            e -> {
              assertThat(e.clazz).isEqualTo("vdi");
              assertThat(e.ref).isEqualTo(vdi.toWireString());
            });
    assertThat(next.token).isGreaterThan(first.token);
    vdi.destroy(c);
  }
}
