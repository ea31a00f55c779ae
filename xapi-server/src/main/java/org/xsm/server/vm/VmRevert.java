package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xsm.server.db.Database;
import org.xsm.server.model.Field;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vgpu;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.WireValues;
import org.xsm.server.vdi.VdiService;
import org.xsm.server.vdi.VdiSnapshots;

/**
 * {@code VM.revert} as xapi does it (xapi_vm_snapshot.ml): SMAPI has no revert, so the snapshot's
 * disks are cloned (in one batch) and replace the VM's, and the VM's fields come back from the
 * snapshot's metadata; and the deletion of snapshots from the snapshot tree.
 */
@ApplicationScoped
public class VmRevert {
  /** VM fields a revert does not copy back (xapi's do_not_copy list, as far as we keep them). */
  private static final Set<Field<Vm, ?>> DO_NOT_COPY =
      Set.of(
          Vm.UUID,
          Vm.SUSPEND_VDI,
          Vm.POWER_STATE,
          Vm.PARENT,
          Vm.DOMID,
          Vm.RESIDENT_ON,
          Vm.TAGS,
          Vm.AFFINITY,
          Vm.IS_A_SNAPSHOT,
          Vm.SNAPSHOT_OF,
          Vm.SNAPSHOT_TIME,
          Vm.SNAPSHOT_INFO,
          Vm.SNAPSHOT_METADATA,
          Vm.TRANSPORTABLE_SNAPSHOT_ID,
          Vm.ALLOWED_OPERATIONS,
          Vm.CURRENT_OPERATIONS,
          Vm.GENERATION_ID,
          Vm.METRICS,
          Vm.GUEST_METRICS);

  @Inject Database db;
  @Inject VdiService vdis;
  @Inject VdiSnapshots vdiSnapshots;
  @Inject VmService vms;
  @Inject VmRecords records;
  @Inject VmSnapshotService snapshots;

  /** VM.revert. */
  public void revert(Ref<Vm> snap) throws XenApiException {
    Row<Vm> s = db.read(Vm.CLASS, snap);
    if (!s.get(Vm.IS_A_SNAPSHOT)) {
      throw new XenApiException(XenApiError.REVERT_ONLY_ALLOWED_ON_SNAPSHOT, snap.value());
    }
    Map<String, Object> meta = VmMetadata.deserialize(s.get(Vm.SNAPSHOT_METADATA));
    Ref<Vm> vm = s.get(Vm.SNAPSHOT_OF);
    if (!db.exists(Vm.CLASS, vm)) {
      // The VM was deleted since: it comes back from its snapshot.
      vm =
          records.create(
              Values.of(Vm.CLASS).with(Vm.NAME_LABEL, String.valueOf(meta.get("name_label"))));
      db.set(snap, Vm.SNAPSHOT_OF, vm);
    }
    Ref<Vm> target = vm;
    if (db.get(target, Vm.POWER_STATE) != PowerState.HALTED) {
      vms.halt(target, true);
    }
    // Fields back from the snapshot's metadata, except xapi's do-not-copy list.
    Values<Vm> fields = Values.of(Vm.CLASS);
    for (Field<Vm, ?> fs : Vm.CLASS.fields()) {
      if (!fs.computed() && !DO_NOT_COPY.contains(fs) && meta.containsKey(fs.name())) {
        fields.putStored(fs.name(), WireValues.coerce(fs, meta.get(fs.name())));
      }
    }
    db.update(Vm.CLASS, target, fields);
    // Disks: the current disks the snapshot has copies of are destroyed and replaced by clones of
    // the snapshot's disks; the other snapshots of an old disk now point at its clone. Disks added
    // after the snapshot stay, detached.
    List<Ref<Vdi>> snapDisks = new ArrayList<>();
    for (Row<Vbd> b : snapshots.vbds(snap)) {
      Ref<Vdi> svdi = b.get(Vbd.VDI);
      if (db.exists(Vdi.CLASS, svdi) && db.get(svdi, Vdi.IS_A_SNAPSHOT)) {
        snapDisks.add(svdi);
      }
    }
    Map<Ref<Vdi>, Ref<Vdi>> cloneOf = vdiSnapshots.snapshotAll(snapDisks, true);
    for (Map.Entry<Ref<Vdi>, Ref<Vdi>> e : cloneOf.entrySet()) {
      Ref<Vdi> old = db.get(e.getKey(), Vdi.SNAPSHOT_OF);
      if (db.exists(Vdi.CLASS, old)) {
        for (Ref<Vdi> other : db.get(old, Vdi.SNAPSHOTS)) {
          db.set(other, Vdi.SNAPSHOT_OF, e.getValue());
        }
        for (Ref<Vbd> vbd : db.get(old, Vdi.VBDS)) {
          if (db.get(vbd, Vbd.VM).equals(target)) {
            db.destroy(Vbd.CLASS, vbd);
          }
        }
        vdis.destroyQuietly(old);
      }
    }
    for (Ref<Vif> dev : db.get(target, Vm.VIFS)) {
      db.destroy(Vif.CLASS, dev);
    }
    for (Ref<Vgpu> dev : db.get(target, Vm.VGPUS)) {
      db.destroy(Vgpu.CLASS, dev);
    }
    for (Ref<Vbd> vbd : db.get(target, Vm.VBDS)) {
      db.set(vbd, Vbd.CURRENTLY_ATTACHED, false);
    }
    snapshots.copyDevices(snap, target, cloneOf);
    db.set(target, Vm.PARENT, snap);
    // A checkpoint: the VM ends suspended with a copy of the saved memory; resume continues
    // from exactly those bytes.
    Ref<Vdi> savedMemory = db.get(snap, Vm.SUSPEND_VDI);
    if (db.get(snap, Vm.POWER_STATE) == PowerState.SUSPENDED && db.exists(Vdi.CLASS, savedMemory)) {
      Ref<Vdi> copy = vdiSnapshots.cloneVdi(savedMemory);
      db.update(
          Vm.CLASS,
          target,
          Values.of(Vm.CLASS)
              .with(Vm.SUSPEND_VDI, copy)
              .with(Vm.POWER_STATE, PowerState.SUSPENDED));
    }
    records.refreshMetrics(target); // its metrics and allowed operations for the new state
  }

  /**
   * Deletes one snapshot: its children move to its parent, a VM whose current snapshot it was
   * points at its parent; with {@code disks}, its disk and memory VDIs are destroyed too.
   */
  public void deleteSnapshot(Ref<Vm> snap, boolean disks) throws XenApiException {
    Ref<Vm> parent = db.get(snap, Vm.PARENT);
    for (Ref<Vm> child : db.get(snap, Vm.CHILDREN)) {
      db.set(child, Vm.PARENT, parent);
    }
    List<Ref<Vdi>> toDelete = new ArrayList<>();
    if (disks) {
      for (Row<Vbd> b : snapshots.vbds(snap)) {
        if (db.exists(Vdi.CLASS, b.get(Vbd.VDI))) {
          toDelete.add(b.get(Vbd.VDI));
        }
      }
      Ref<Vdi> mem = db.get(snap, Vm.SUSPEND_VDI);
      if (db.exists(Vdi.CLASS, mem)) {
        toDelete.add(mem);
      }
    }
    vms.destroyDevices(snap);
    records.destroy(snap);
    for (Ref<Vdi> vdi : toDelete) {
      vdis.destroy(vdi);
    }
  }

  /** Deletes a snapshot's descendants, and itself too if {@code self}. */
  public void deleteSubtree(Ref<Vm> snap, boolean self) throws XenApiException {
    for (Ref<Vm> child : db.get(snap, Vm.CHILDREN)) {
      if (db.get(child, Vm.IS_A_SNAPSHOT)) {
        deleteSubtree(child, true);
      }
    }
    if (self) {
      deleteSnapshot(snap, true);
    }
  }
}
