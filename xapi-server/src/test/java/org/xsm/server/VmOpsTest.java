package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.xensource.xenapi.Console;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.Network;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VIF;
import com.xensource.xenapi.VM;
import com.xensource.xenapi.VMGuestMetrics;
import com.xensource.xenapi.VTPM;
import com.xensource.xenapi.XenAPIObject;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.xmlrpc.client.XmlRpcClient;
import org.apache.xmlrpc.client.XmlRpcClientConfigImpl;
import org.junit.jupiter.api.Test;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.vm.VmOperations;
import org.xsm.server.vm.VmOperations.Op;

/**
 * VM, VBD, VIF, VTPM and console behaviour through the Java SDK, against what xapi does: stock
 * templates and provision, power operations with allowed operations kept true, the simulated
 * guest's metrics and console, memory and vCPU checks, CD media, VIF MACs, snapshot-tree
 * re-parenting, and xapi's errors where xsm has no such thing.
 */
@QuarkusTest
class VmOpsTest extends SdkTest {
  private static final long MIB = 1024L * 1024;

  /** The error code and parameters with which the server fails {@code method} (it must fail). */
  private List<String> fails(String method, Object... params) throws Exception {
    XmlRpcClientConfigImpl cfg = new XmlRpcClientConfigImpl();
    cfg.setServerURL(url);
    XmlRpcClient x = new XmlRpcClient();
    x.setConfig(cfg);
    Object[] all = new Object[params.length + 1];
    all[0] = c.getSessionReference();
    for (int i = 0; i < params.length; i++) {
      Object p = params[i];
      all[i + 1] =
          p instanceof XenAPIObject o ? o.toWireString() : p instanceof Long l ? l.toString() : p;
    }
    Map<?, ?> r = (Map<?, ?>) x.execute(method, all);
    assertThat(r.get("Status")).as("%s answered %s", method, r).isEqualTo("Failure");
    return Arrays.stream((Object[]) r.get("ErrorDescription")).map(String::valueOf).toList();
  }

  /** A VBD record as SDK users fill one in. */
  private static VBD.Record vbd(
      VM vm, VDI vdi, String userdevice, Types.VbdType type, Types.VbdMode mode) {
    VBD.Record b = new VBD.Record();
    b.VM = vm;
    b.VDI = vdi;
    b.userdevice = userdevice;
    b.mode = mode;
    b.type = type;
    b.bootable = false;
    b.empty = false;
    b.otherConfig = Map.of();
    b.qosAlgorithmParams = Map.of();
    b.qosAlgorithmType = "";
    return b;
  }

  private VM template(String name) throws Exception {
    Set<VM> t = VM.getByNameLabel(c, name);
    assertThat(t).as("template %s", name).hasSize(1);
    return t.iterator().next();
  }

  /** A new halted VM from "Other install media" (no disks), with one VIF. */
  private VM newVm(String name) throws Exception {
    VM vm = template("Other install media").createClone(c, name);
    vm.provision(c);
    VIF.Record v = new VIF.Record();
    v.VM = vm;
    v.network = Network.getAll(c).iterator().next();
    v.device = "0";
    v.MAC = "";
    v.MTU = 1500L;
    v.otherConfig = Map.of();
    v.qosAlgorithmType = "";
    v.qosAlgorithmParams = Map.of();
    VIF.create(c, v);
    return vm;
  }

  @Test
  void stockTemplatesProvisionIntoVms() throws Exception {
    for (String name :
        List.of(
            "Other install media",
            "Debian Bookworm 12",
            "Ubuntu Jammy Jellyfish 22.04",
            "CentOS Stream 9",
            "Rocky Linux 9")) {
      VM.Record t = template(name).getRecord(c);
      assertThat(t.isATemplate).isTrue();
      assertThat(t.isDefaultTemplate).isTrue();
      assertThat(t.otherConfig)
          .containsEntry("default_template", "true")
          .containsKey("install-methods");
      assertThat(t.allowedOperations)
          .contains(Types.VmOperations.CLONE, Types.VmOperations.PROVISION);
      assertThat(t.allowedOperations)
          .doesNotContain(Types.VmOperations.START, Types.VmOperations.DESTROY);
    }
    VM.Record debian = template("Debian Bookworm 12").getRecord(c);
    assertThat(debian.memoryStaticMin).isEqualTo(1024 * MIB);
    assertThat(debian.memoryStaticMax).isEqualTo(2048 * MIB);
    assertThat(debian.otherConfig.get("disks"))
        .isEqualTo(
            "<provision><disk device=\"0\" size=\"10737418240\" sr=\"\" bootable=\"true\""
                + " type=\"system\"/></provision>");
    List<String> err = fails("VM.destroy", template("Debian Bookworm 12"));
    assertThat(err.get(0)).isEqualTo("VM_IS_TEMPLATE");

    VM copy = template("Debian Bookworm 12").createClone(c, "from-debian");
    VM.Record r = copy.getRecord(c);
    assertThat(r.isATemplate).isTrue();
    assertThat(r.isDefaultTemplate).isFalse();
    assertThat(r.otherConfig).doesNotContainKey("default_template");
    assertThat(r.VBDs).isEmpty();
    copy.provision(c);
    r = copy.getRecord(c);
    assertThat(r.isATemplate).isFalse();
    assertThat(r.otherConfig).doesNotContainKey("disks");
    assertThat(r.VBDs).hasSize(1);
    VBD.Record b = r.VBDs.iterator().next().getRecord(c);
    assertThat(b.userdevice).isEqualTo("0");
    assertThat(b.bootable).isTrue();
    assertThat(b.VDI.getVirtualSize(c)).isEqualTo(10L << 30);
    assertThat(b.VDI.getSR(c)).isEqualTo(defaultSr());
    assertThat(r.allowedOperations).contains(Types.VmOperations.START, Types.VmOperations.DESTROY);
    assertThat(fails("VM.provision", copy)).containsExactly("PROVISION_ONLY_ALLOWED_ON_TEMPLATE");
  }

  @Test
  void powerOperationsKeepAllowedOperationsGuestAndConsole() throws Exception {
    VM vm = newVm("power");
    VIF vif = vm.getVIFs(c).iterator().next();
    assertThat(vif.getMAC(c)).matches("[0-9a-f][26ae](:[0-9a-f]{2}){5}");
    assertThat(vif.getMACAutogenerated(c)).isTrue();
    assertThat(vm.getAllowedOperations(c))
        .contains(Types.VmOperations.START, Types.VmOperations.CLONE)
        .doesNotContain(Types.VmOperations.CLEAN_SHUTDOWN, Types.VmOperations.HARD_REBOOT);
    assertThat(fails("VM.hard_reboot", vm))
        .containsExactly("VM_BAD_POWER_STATE", vm.toWireString(), "paused, running", "halted");

    vm.start(c, false, false);
    VM.Record r = vm.getRecord(c);
    assertThat(r.allowedOperations)
        .contains(
            Types.VmOperations.CLEAN_SHUTDOWN,
            Types.VmOperations.CLEAN_REBOOT,
            Types.VmOperations.HARD_REBOOT,
            Types.VmOperations.SUSPEND,
            Types.VmOperations.PAUSE)
        .doesNotContain(Types.VmOperations.START, Types.VmOperations.DESTROY);
    assertThat(r.currentOperations).isEmpty();
    assertThat(vif.getCurrentlyAttached(c)).isTrue();
    VMGuestMetrics.Record g = r.guestMetrics.getRecord(c);
    assertThat(g.networks.get("0/ip")).matches("198\\.51\\.100\\.\\d+");
    assertThat(g.live).isTrue();
    assertThat(r.consoles).hasSize(1);
    Console.Record con = r.consoles.iterator().next().getRecord(c);
    assertThat(con.protocol).isEqualTo(Types.ConsoleProtocol.RFB);
    assertThat(con.location)
        .contains("/console?ref=" + r.consoles.iterator().next().toWireString());

    assertThat(fails("VM.set_is_a_template", vm, true))
        .containsExactly("VM_BAD_POWER_STATE", vm.toWireString(), "halted", "running");
    long domid = r.domid;
    vm.cleanReboot(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.RUNNING);
    assertThat(vm.getDomid(c)).isNotEqualTo(domid);
    vm.hardReboot(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.RUNNING);

    vif.unplug(c);
    assertThat(vm.getGuestMetrics(c).getNetworks(c)).doesNotContainKey("0/ip");
    vif.plug(c);
    assertThat(vm.getGuestMetrics(c).getNetworks(c)).containsKey("0/ip");

    vm.pause(c);
    assertThat(vm.getAllowedOperations(c))
        .contains(Types.VmOperations.UNPAUSE, Types.VmOperations.HARD_REBOOT)
        .doesNotContain(Types.VmOperations.CLEAN_REBOOT);
    assertThat(fails("VM.clean_reboot", vm).get(0)).isEqualTo("VM_BAD_POWER_STATE");
    vm.hardReboot(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.RUNNING);

    Host host = Host.getAll(c).iterator().next();
    vm.poolMigrate(c, host, Map.of());
    assertThat(fails("VM.snapshot_with_quiesce", vm, "q"))
        .containsExactly("VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED", vm.toWireString());

    vm.shutdown(c);
    r = vm.getRecord(c);
    assertThat(r.powerState).isEqualTo(Types.VmPowerState.HALTED);
    assertThat(r.guestMetrics.toWireString()).isEqualTo("OpaqueRef:NULL");
    assertThat(r.consoles).isEmpty();
    assertThat(vif.getCurrentlyAttached(c)).isFalse();
    assertThat(r.allowedOperations).contains(Types.VmOperations.START);

    vm.startOn(c, host, false, false);
    assertThat(vm.getResidentOn(c)).isEqualTo(host);
    vm.hardShutdown(c);
    assertThat(fails("VM.start_on", vm, "OpaqueRef:nope", false, false))
        .containsExactly("HANDLE_INVALID", "host", "OpaqueRef:nope");
    assertThat(fails("VM.retrieve_wlb_recommendations", vm)).containsExactly("WLB_NOT_INITIALIZED");
    vm.setIsATemplate(c, true);
    assertThat(vm.getAllowedOperations(c))
        .contains(Types.VmOperations.CLONE, Types.VmOperations.DESTROY)
        .doesNotContain(Types.VmOperations.START);
    assertThat(fails("VM.start", vm, false, false).get(0)).isEqualTo("VM_IS_TEMPLATE");
    vm.setIsATemplate(c, false);
    assertThat(vm.getAllowedOperations(c)).contains(Types.VmOperations.START);
  }

  @Test
  void memoryAndVcpusAreCheckedAsXapiChecksThem() throws Exception {
    VM vm = newVm("sizes");
    assertThat(fails("VM.set_memory_limits", vm, 512 * MIB, 256 * MIB, 256 * MIB, 256 * MIB))
        .first()
        .isEqualTo("MEMORY_CONSTRAINT_VIOLATION");
    vm.setMemoryLimits(c, 128 * MIB, 1024 * MIB, 512 * MIB, 1024 * MIB);
    VM.Record r = vm.getRecord(c);
    assertThat(
            List.of(r.memoryStaticMin, r.memoryDynamicMin, r.memoryDynamicMax, r.memoryStaticMax))
        .containsExactly(128 * MIB, 512 * MIB, 1024 * MIB, 1024 * MIB);
    vm.setMemory(c, 768 * MIB);
    assertThat(vm.getMemoryStaticMax(c)).isEqualTo(768 * MIB);
    assertThat(vm.getMemoryDynamicMin(c)).isEqualTo(768 * MIB);
    vm.setMemoryDynamicRange(c, 256 * MIB, 512 * MIB);
    assertThat(vm.getMemoryDynamicMax(c)).isEqualTo(512 * MIB);
    assertThat(fails("VM.set_memory_static_range", vm, 600 * MIB, 768 * MIB).get(0))
        .isEqualTo("MEMORY_CONSTRAINT_VIOLATION");

    vm.setVCPUsMax(c, 4L);
    vm.setVCPUsAtStartup(c, 3L);
    assertThat(fails("VM.set_VCPUs_at_startup", vm, 5L).get(0)).isEqualTo("INVALID_VALUE");
    assertThat(fails("VM.set_VCPUs_max", vm, 2L).get(0)).isEqualTo("INVALID_VALUE");
    assertThat(fails("VM.set_VCPUs_number_live", vm, 2L).get(0)).isEqualTo("VM_BAD_POWER_STATE");

    vm.start(c, false, false);
    assertThat(vm.getMetrics(c).getVCPUsNumber(c)).isEqualTo(3L);
    vm.setVCPUsNumberLive(c, 4L);
    assertThat(vm.getMetrics(c).getVCPUsNumber(c)).isEqualTo(4L);
    assertThat(fails("VM.set_VCPUs_max", vm, 8L))
        .containsExactly("VM_BAD_POWER_STATE", vm.toWireString(), "halted", "running");
    assertThat(fails("VM.set_memory_limits", vm, MIB, MIB, MIB, MIB).get(0))
        .isEqualTo("VM_BAD_POWER_STATE");
    vm.hardShutdown(c);
    assertThat(vm.computeMemoryOverhead(c)).isPositive();
    assertThat(fails("VM.set_affinity", vm, "OpaqueRef:bogus"))
        .containsExactly("HANDLE_INVALID", "host", "OpaqueRef:bogus");
    assertThat(fails("VM.set_domain_type", vm, "unspecified"))
        .containsExactly("INVALID_VALUE", "domain_type", "unspecified");
    vm.setDomainType(c, Types.DomainType.PV);
    assertThat(vm.getHVMBootPolicy(c)).isEmpty();
    vm.setHVMBootPolicy(c, "BIOS order");
    assertThat(vm.getDomainType(c)).isEqualTo(Types.DomainType.HVM);
  }

  @Test
  void devicesMediaAndMacs() throws Exception {
    VM vm = newVm("devices");
    assertThat(vm.getAllowedVIFDevices(c)).doesNotContain("0").contains("1", "15");
    assertThat(vm.getAllowedVBDDevices(c)).contains("0", "3", "254");
    VIF.Record v = vm.getVIFs(c).iterator().next().getRecord(c);
    Map<String, Object> wire = new HashMap<>();
    wire.put("VM", vm.toWireString());
    wire.put("network", v.network.toWireString());
    wire.put("MTU", "1500");
    wire.put("other_config", Map.of());
    wire.put("qos_algorithm_type", "");
    wire.put("qos_algorithm_params", Map.of());
    wire.put("device", "1");
    wire.put("MAC", "not-a-mac");
    assertThat(fails("VIF.create", wire)).containsExactly("MAC_INVALID", "not-a-mac");
    wire.put("MAC", "02:00:00:00:00:99");
    wire.put("device", "0");
    assertThat(fails("VIF.create", wire)).containsExactly("DEVICE_ALREADY_EXISTS", "0");
    v.MAC = "02:00:00:00:00:99";
    v.device = "1";
    VIF second = VIF.create(c, v);
    assertThat(second.getMAC(c)).isEqualTo("02:00:00:00:00:99");
    assertThat(second.getMACAutogenerated(c)).isFalse();

    VBD.Record cd =
        vbd(vm, Types.toVDI("OpaqueRef:NULL"), "autodetect", Types.VbdType.CD, Types.VbdMode.RO);
    cd.empty = true;
    VBD drive = VBD.create(c, cd);
    assertThat(drive.getUserdevice(c)).isEqualTo("0");
    assertThat(vm.getAllowedVBDDevices(c)).doesNotContain("0");
    assertThat(drive.getAllowedOperations(c)).contains(Types.VbdOperations.INSERT);
    VDI iso = newVdi("installer.iso", 4 * MIB);
    assertThat(fails("VBD.eject", drive)).containsExactly("VBD_IS_EMPTY", drive.toWireString());
    drive.insert(c, iso);
    assertThat(drive.getEmpty(c)).isFalse();
    assertThat(drive.getVDI(c)).isEqualTo(iso);
    assertThat(fails("VBD.insert", drive, iso))
        .containsExactly("VBD_NOT_EMPTY", drive.toWireString());
    vm.start(c, false, false);
    assertThat(drive.getCurrentlyAttached(c)).isTrue();
    drive.eject(c);
    assertThat(drive.getEmpty(c)).isTrue();
    assertThat(drive.getVDI(c).toWireString()).isEqualTo("OpaqueRef:NULL");
    drive.insert(c, iso);
    assertThat(drive.getCurrentlyAttached(c)).isTrue();
    drive.unplugForce(c);
    assertThat(drive.getCurrentlyAttached(c)).isFalse();
    vm.hardShutdown(c);

    VDI data = newVdi("data", 4 * MIB);
    VBD.Record d = vbd(vm, data, "1", Types.VbdType.DISK, Types.VbdMode.RW);
    VBD disk = VBD.create(c, d);
    assertThat(fails("VBD.insert", disk, iso))
        .containsExactly("VBD_NOT_REMOVABLE_MEDIA", disk.toWireString());
    disk.assertAttachable(c);
  }

  @Test
  void biosStringsAsXapiSetsThem() throws Exception {
    VM vm = newVm("bios");
    assertThat(vm.getBiosStrings(c)).isEmpty();
    assertThat(fails("VM.set_bios_strings", vm, Map.of("oem-1", "x")))
        .containsExactly("INVALID_VALUE", "oem-1", "Unknown key");
    assertThat(fails("VM.set_bios_strings", vm, Map.of("system-version", "")))
        .containsExactly("INVALID_VALUE", "system-version", "Value provided is empty");
    vm.setBiosStrings(c, Map.of("system-manufacturer", "xsm"));
    assertThat(vm.getBiosStrings(c))
        .containsEntry("system-manufacturer", "xsm")
        .containsEntry("bios-vendor", "Xen");
    assertThat(fails("VM.set_bios_strings", vm, Map.of("system-version", "2")))
        .containsExactly("VM_BIOS_STRINGS_ALREADY_SET");
    assertThat(fails("VM.add_to_bios_strings", vm, "k", "v").get(0))
        .isEqualTo("MESSAGE_METHOD_UNKNOWN");
    VM other = newVm("bios-generic");
    other.start(c, false, false);
    assertThat(other.getBiosStrings(c)).containsEntry("system-product-name", "HVM domU");
    other.hardShutdown(c);
  }

  @Test
  void vtpmAndConsoleRecords() throws Exception {
    VM vm = newVm("vtpm");
    VTPM.Record t = new VTPM.Record();
    t.VM = vm;
    t.backend = Types.toVM("OpaqueRef:NULL");
    VTPM tpm = VTPM.create(c, t);
    assertThat(vm.getVTPMs(c)).containsExactly(tpm);
    assertThat(fails("VTPM.create", Map.of("VM", vm.toWireString(), "backend", "OpaqueRef:NULL")))
        .containsExactly("VTPM_MAX_AMOUNT_REACHED", "1");
    vm.start(c, false, false);
    assertThat(fails("VTPM.destroy", tpm).get(0)).isEqualTo("VM_BAD_POWER_STATE");
    vm.hardShutdown(c);
    tpm.destroy(c);
    assertThat(vm.getVTPMs(c)).isEmpty();

    Console.Record cr = new Console.Record();
    cr.VM = vm;
    cr.otherConfig = Map.of("k", "v");
    Console con = Console.create(c, cr);
    assertThat(vm.getConsoles(c)).containsExactly(con);
    con.destroy(c);
    assertThat(vm.getConsoles(c)).isEmpty();
  }

  @Test
  void aRevertedCheckpointAllowsResume() throws Exception {
    VM vm = newVm("checkpointed");
    vm.start(c, false, false);
    VM cp = vm.checkpoint(c, "cp");
    assertThat(cp.getAllowedOperations(c))
        .contains(Types.VmOperations.REVERT, Types.VmOperations.CLONE)
        .doesNotContain(Types.VmOperations.RESUME, Types.VmOperations.START);
    cp.revert(c);
    VM.Record r = vm.getRecord(c);
    assertThat(r.powerState).isEqualTo(Types.VmPowerState.SUSPENDED);
    assertThat(r.allowedOperations)
        .contains(Types.VmOperations.RESUME, Types.VmOperations.HARD_SHUTDOWN)
        .doesNotContain(Types.VmOperations.START, Types.VmOperations.CLEAN_SHUTDOWN);
    assertThat(r.guestMetrics.toWireString()).isEqualTo("OpaqueRef:NULL");
    vm.resume(c, false, false);
    assertThat(vm.getGuestMetrics(c).getNetworks(c)).containsKey("0/ip");
    vm.hardShutdown(c);
  }

  @Test
  void destroyingSnapshotsReparentsTheTree() throws Exception {
    VM vm = newVm("tree");
    VM first = vm.snapshot(c, "first");
    VM second = vm.snapshot(c, "second");
    assertThat(vm.getParent(c)).isEqualTo(second);
    assertThat(second.getParent(c)).isEqualTo(first);
    assertThat(second.getAllowedOperations(c))
        .contains(Types.VmOperations.REVERT, Types.VmOperations.DESTROY)
        .doesNotContain(Types.VmOperations.START);
    second.destroy(c);
    assertThat(vm.getParent(c)).isEqualTo(first);
    assertThat(first.getChildren(c)).containsExactly(vm);
    first.destroy(c);
    assertThat(vm.getParent(c).toWireString()).isEqualTo("OpaqueRef:NULL");
  }

  @Test
  void everyMessageOfTheVmClassesAnswers() throws Exception {
    List<String> missing = new ArrayList<>();
    int total = 0;
    for (String cls :
        List.of("VM", "VBD", "VIF", "VGPU", "VTPM", "Console", "VMMetrics", "VMGuestMetrics")) {
      for (String m : SdkMessages.of(cls)) {
        total++;
        if (!SdkMessages.registered(dispatcher).contains(m)) {
          missing.add(m);
        }
      }
    }
    System.out.printf(
        "VM classes: %d of %d SDK messages answered%n", total - missing.size(), total);
    assertThat(total).isGreaterThan(350);
    assertThat(missing).isEmpty();
    // Only xapi's own messages: what the server lists for these classes is the SDK's, but for
    // VTPM.get_all(_records), which xapi added after the SDK 8.1.0.
    Set<String> sdk = new java.util.TreeSet<>();
    for (String cls :
        List.of("VM", "VBD", "VIF", "VGPU", "VTPM", "Console", "VMMetrics", "VMGuestMetrics")) {
      sdk.addAll(SdkMessages.of(cls));
    }
    sdk.addAll(List.of("VTPM.get_all", "VTPM.get_all_records"));
    assertThat(
            SdkMessages.registered(dispatcher).stream()
                .filter(
                    m ->
                        m.matches(
                            "(VM|VBD|VIF|VGPU|VTPM|console|VM_metrics|VM_guest_metrics)\\..*"))
                .filter(m -> !sdk.contains(m)))
        .isEmpty();
  }

  @Test
  void currentOperationsListRunningOnesAndExcludeConflictingOnes() throws Exception {
    VM vm = newVm("busy");
    Ref<Vm> ref = Ref.of(vm.toWireString());
    db.beginCall();
    try {
      operations.during(
          ref,
          Op.CLONE,
          "OpaqueRef:task-1",
          () -> {
            assertThat(db.get(ref, Vm.CURRENT_OPERATIONS))
                .containsExactly(Map.entry("OpaqueRef:task-1", "clone"));
            assertThat(db.get(ref, Vm.ALLOWED_OPERATIONS))
                .contains("clone", "copy", "export")
                .doesNotContain("start", "destroy", "snapshot");
            XenApiException e =
                catchThrowableOfType(
                    () -> operations.during(ref, Op.START, "OpaqueRef:task-2", () -> ""),
                    XenApiException.class);
            assertThat(e.errorDescription())
                .containsExactly(
                    "OTHER_OPERATION_IN_PROGRESS", "VM", ref.value(), "clone", "OpaqueRef:task-1");
            assertThat(operations.during(ref, Op.COPY, null, () -> "copied")).isEqualTo("copied");
            return "";
          });
    } finally {
      db.endCall();
    }
    assertThat(vm.getCurrentOperations(c)).isEmpty();
    assertThat(vm.getAllowedOperations(c)).contains(Types.VmOperations.START);
  }

  @Inject Dispatcher dispatcher;
  @Inject VmOperations operations;
  @Inject Database db;
}
