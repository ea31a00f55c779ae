package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleConsumer;
import org.xsm.server.db.Database;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vgpu;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.vdi.VdiService;
import org.xsm.server.vdi.VdiSnapshots;

/**
 * {@code VM.snapshot}, {@code VM.checkpoint}, {@code VM.clone} and {@code VM.copy} as xapi does
 * them (xapi_vm_snapshot.ml, xapi_vm_clone.ml): a snapshot snapshots every disk through the plugin
 * (all of a VM's disks in one batch) and copies the VM's metadata into a new snapshot VM. Revert
 * and deletion are in {@link VmRevert}.
 */
@ApplicationScoped
public class VmSnapshotService {
  /**
   * The {@code snapshot_info} key of a live snapshot: milliseconds the guest's new disk requests
   * were held for the switch to the new leaves (absent when no domain's I/O was held).
   */
  public static final String IO_HOLD_MS = "io-hold-ms";

  @Inject Database db;
  @Inject VdiService vdis;
  @Inject VdiSnapshots vdiSnapshots;
  @Inject VmService vms;
  @Inject VmRecords records;
  @Inject VmDomains domains;
  @Inject SnapshotPreconditions preconditions;
  @Inject VmOperations operations;

  /** VM.snapshot: the VM's disks (but those in {@code ignore}) and metadata. */
  public Ref<Vm> snapshot(Ref<Vm> vm, String name, List<Ref<Vdi>> ignore) throws XenApiException {
    Row<Vm> rec = db.read(Vm.CLASS, vm);
    preconditions.require(vm);
    // 1. Disks first, in one batch; on a failure none remains.
    List<Ref<Vdi>> disks = new ArrayList<>();
    for (Row<Vbd> b : vbds(vm)) {
      Ref<Vdi> vdi = b.get(Vbd.VDI);
      if (Vbd.isDisk(b) && db.exists(Vdi.CLASS, vdi) && !ignore.contains(vdi)) {
        disks.add(vdi);
      }
    }
    long[] held = {-1};
    Map<Ref<Vdi>, Ref<Vdi>> snapOf = vdiSnapshots.snapshotAll(disks, false, n -> held[0] = n);
    Map<String, String> info = new LinkedHashMap<>(info(rec.get(Vm.POWER_STATE)));
    if (held[0] >= 0) {
      // How long the running guest's disk I/O waited for the switch (xsm's own key).
      info.put(IO_HOLD_MS, String.format(java.util.Locale.ROOT, "%.3f", held[0] / 1e6));
    }
    // 2. The snapshot VM: the VM's fields, marked as a snapshot of it.
    Values<Vm> f = rec.storedValues();
    f.without(Vm.UUID)
        .with(Vm.NAME_LABEL, name)
        .with(Vm.IS_A_SNAPSHOT, true)
        .with(Vm.SNAPSHOT_OF, vm)
        .with(
            Vm.SNAPSHOT_TIME,
            java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
        .with(Vm.SNAPSHOT_INFO, info)
        .with(Vm.SNAPSHOT_METADATA, VmMetadata.serialize(db.wireRecord(Vm.CLASS, vm.value())))
        .with(Vm.TRANSPORTABLE_SNAPSHOT_ID, "")
        .with(Vm.SUSPEND_VDI, Ref.nullRef())
        .with(Vm.POWER_STATE, PowerState.HALTED)
        .with(Vm.DOMID, -1L)
        .with(Vm.CURRENT_OPERATIONS, Map.of())
        .with(Vm.RESIDENT_ON, Ref.nullRef());
    Ref<Vm> snap = records.create(f);
    // 3. Its devices: VBDs onto the snapshot disks (CDs keep their ISO, empty ones stay empty),
    // VIFs with the same MACs, VGPUs.
    copyDevices(vm, snap, snapOf);
    // 4. The snapshot is now the VM's current one.
    db.set(vm, Vm.PARENT, snap);
    return snap;
  }

  static Map<String, String> info(PowerState atSnapshot) {
    return Map.of(
        "power-state-at-snapshot", atSnapshot.wire(), "disk-snapshot-type", "crash_consistent");
  }

  List<Row<Vbd>> vbds(Ref<Vm> vm) throws XenApiException {
    List<Row<Vbd>> out = new ArrayList<>();
    for (Ref<Vbd> ref : db.get(vm, Vm.VBDS)) {
      Row<Vbd> b = db.readOrNull(Vbd.CLASS, ref);
      if (b != null) {
        out.add(b);
      }
    }
    return out;
  }

  /**
   * VM.checkpoint: the memory goes into a suspend VDI (the guest paused for that instant), the
   * disks are snapshotted, and the snapshot VM is Suspended with that VDI; the VM runs on.
   */
  public Ref<Vm> checkpoint(Ref<Vm> vm, String name) throws XenApiException {
    PowerState state = db.get(vm, Vm.POWER_STATE);
    if (state != PowerState.RUNNING && state != PowerState.PAUSED) {
      throw new XenApiException(
          XenApiError.VM_BAD_POWER_STATE, vm.value(), "running", state.wire().toLowerCase());
    }
    preconditions.require(vm); // before the memory is saved: a refusal should cost nothing
    // The guest stays paused until its disks are snapshotted too: memory and disks are one instant.
    if (state == PowerState.RUNNING) {
      domains.pause(vm);
    }
    Ref<Vdi> image;
    Ref<Vm> snap;
    try {
      image = domains.saveMemoryToVdi(vm);
      try {
        snap = snapshot(vm, name, List.of());
      } catch (XenApiException e) {
        vdis.destroyQuietly(image);
        throw e;
      }
    } finally {
      if (state == PowerState.RUNNING) {
        domains.unpause(vm);
      }
    }
    db.update(
        Vm.CLASS,
        snap,
        Values.of(Vm.CLASS)
            .with(Vm.POWER_STATE, PowerState.SUSPENDED)
            .with(Vm.SUSPEND_VDI, image)
            .with(Vm.SNAPSHOT_INFO, info(state)));
    operations.update(snap);
    return snap;
  }

  /**
   * VM.clone (disks cloned through the plugin, sharing data) and VM.copy (disks copied in full, to
   * {@code copyToSr} if given): a new halted VM with the source's configuration and devices. A
   * snapshot may be the source: that is how a new VM is made from a snapshot.
   */
  public Ref<Vm> cloneVm(Ref<Vm> vm, String name, Ref<Sr> copyToSr, DoubleConsumer progress)
      throws XenApiException {
    Row<Vm> rec = db.read(Vm.CLASS, vm);
    PowerState state = rec.get(Vm.POWER_STATE);
    if (state != PowerState.HALTED && !rec.get(Vm.IS_A_SNAPSHOT)) {
      throw new XenApiException(
          XenApiError.VM_BAD_POWER_STATE, vm.value(), "halted", state.wire().toLowerCase());
    }
    List<Ref<Vdi>> sources = new ArrayList<>();
    for (Row<Vbd> b : vbds(vm)) {
      if (Vbd.isDisk(b) && db.exists(Vdi.CLASS, b.get(Vbd.VDI))) {
        sources.add(b.get(Vbd.VDI));
      }
    }
    Map<Ref<Vdi>, Ref<Vdi>> disks =
        copyToSr == null
            ? vdiSnapshots.snapshotAll(sources, true)
            : copyDisks(sources, copyToSr, progress);
    Values<Vm> f = rec.storedValues();
    for (var k :
        List.of(
            Vm.UUID,
            Vm.SNAPSHOT_OF,
            Vm.SNAPSHOT_TIME,
            Vm.SNAPSHOT_INFO,
            Vm.SNAPSHOT_METADATA,
            Vm.PARENT,
            Vm.SUSPEND_VDI,
            Vm.RESIDENT_ON)) {
      f.without(k);
    }
    // As xapi's clone: a fresh MAC seed, no default-template mark, the base template's name kept.
    Map<String, String> oc = new LinkedHashMap<>(rec.get(Vm.OTHER_CONFIG));
    if (oc.containsKey(VmDevices.MAC_SEED)) {
      oc.put(VmDevices.MAC_SEED, java.util.UUID.randomUUID().toString());
    }
    oc.remove("default_template");
    oc.remove("xensource_internal");
    if (rec.get(Vm.IS_A_TEMPLATE)) {
      oc.putIfAbsent("base_template_name", rec.get(Vm.NAME_LABEL));
    }
    f.with(Vm.NAME_LABEL, name)
        .with(Vm.OTHER_CONFIG, oc)
        .with(Vm.IS_DEFAULT_TEMPLATE, false)
        .with(Vm.CURRENT_OPERATIONS, Map.of())
        .with(Vm.IS_A_SNAPSHOT, false)
        .with(Vm.POWER_STATE, PowerState.HALTED)
        .with(Vm.DOMID, -1L);
    Ref<Vm> newVm = records.create(f);
    copyDevices(vm, newVm, disks);
    progress.accept(1);
    return newVm;
  }

  private Map<Ref<Vdi>, Ref<Vdi>> copyDisks(
      List<Ref<Vdi>> sources, Ref<Sr> copyToSr, DoubleConsumer progress) throws XenApiException {
    Map<Ref<Vdi>, Ref<Vdi>> out = new LinkedHashMap<>();
    try {
      for (int i = 0; i < sources.size(); i++) {
        Ref<Vdi> vdi = sources.get(i);
        Ref<Sr> sr = db.exists(Sr.CLASS, copyToSr) ? copyToSr : db.get(vdi, Vdi.SR);
        // The task's progress: each disk an equal share, by its bytes.
        double done = (double) i / sources.size();
        double share = 1.0 / sources.size();
        out.put(vdi, vdis.copy(vdi, sr, x -> progress.accept(done + share * x)));
      }
    } catch (XenApiException e) {
      for (Ref<Vdi> d : out.values()) {
        vdis.destroyQuietly(d);
      }
      throw e;
    }
    return out;
  }

  /**
   * Copies a VM's devices to another: VBDs onto the mapped disks (a disk not in the map and not a
   * snapshot's is left out: it was ignored), VIFs, VGPUs; all unplugged.
   */
  void copyDevices(Ref<Vm> from, Ref<Vm> to, Map<Ref<Vdi>, Ref<Vdi>> vdiMap)
      throws XenApiException {
    for (Row<Vbd> b : vbds(from)) {
      Values<Vbd> d = b.storedValues().without(Vbd.UUID);
      d.with(Vbd.VM, to).with(Vbd.CURRENTLY_ATTACHED, false);
      Ref<Vdi> vdi = b.get(Vbd.VDI);
      if (vdiMap.containsKey(vdi)) {
        d.with(Vbd.VDI, vdiMap.get(vdi));
      } else if (Vbd.isDisk(b) && !(db.exists(Vdi.CLASS, vdi) && db.get(vdi, Vdi.IS_A_SNAPSHOT))) {
        continue; // a disk left out of the snapshot (ignore_vdis)
      }
      db.create(Vbd.CLASS, d);
    }
    for (Ref<Vif> ref : db.get(from, Vm.VIFS)) {
      Row<Vif> r = db.readOrNull(Vif.CLASS, ref);
      if (r != null) {
        db.create(
            Vif.CLASS,
            r.storedValues()
                .without(Vif.UUID)
                .with(Vif.VM, to)
                .with(Vif.CURRENTLY_ATTACHED, false));
      }
    }
    for (Ref<Vgpu> ref : db.get(from, Vm.VGPUS)) {
      Row<Vgpu> r = db.readOrNull(Vgpu.CLASS, ref);
      if (r != null) {
        db.create(
            Vgpu.CLASS,
            r.storedValues()
                .without(Vgpu.UUID)
                .with(Vgpu.VM, to)
                .with(Vgpu.CURRENTLY_ATTACHED, false));
      }
    }
  }
}
