package org.xsm.server.vm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xsm.server.db.ClassSpec;
import org.xsm.server.db.Database;
import org.xsm.server.db.FieldSpec;
import org.xsm.server.db.FieldType;
import org.xsm.server.db.Schema;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.XenApiException;
import org.xsm.server.storage.StorageMessages;
import org.xsm.server.task.Tasks;

/**
 * {@code VM.snapshot} and {@code VM.revert} as xapi does them (xapi_vm_snapshot.ml): a snapshot
 * snapshots every disk through the plugin and copies the VM's metadata into a new snapshot VM;
 * revert is VDI clone plus metadata copy, since SMAPI has no revert.
 */
@ApplicationScoped
public class VmSnapshots implements RpcModule {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** VM fields a revert does not copy back (xapi's do_not_copy list, as far as we keep them). */
  private static final Set<String> DO_NOT_COPY =
      Set.of(
          "uuid",
          "suspend_VDI",
          "power_state",
          "parent",
          "children",
          "domid",
          "resident_on",
          "VBDs",
          "VIFs",
          "VGPUs",
          "snapshots",
          "tags",
          "affinity",
          "is_a_snapshot",
          "snapshot_of",
          "snapshot_time",
          "snapshot_info",
          "snapshot_metadata",
          "transportable_snapshot_id",
          "allowed_operations",
          "current_operations",
          "generation_id");

  @Inject Database db;
  @Inject StorageMessages storage;
  @Inject VmMessages vms;
  @Inject MemoryImages memory;
  @Inject org.xsm.server.storage.StorageService storageService;
  @Inject SnapshotPreconditions preconditions;
  @Inject Tasks tasks;

  @Override
  public void register(Dispatcher d) {
    d.register("VM.snapshot", -1, true, true, (c, a) -> snapshot(a));
    d.register("VM.revert", 2, true, true, (c, a) -> revert(Params.str(a, 0)));
    d.register(
        "VM.clone",
        3,
        true,
        true,
        (c, a) -> cloneVm(Params.str(a, 0), Params.str(a, 1), null, tasks.progress(c)));
    d.register(
        "VM.copy",
        4,
        true,
        true,
        (c, a) -> cloneVm(Params.str(a, 0), Params.str(a, 1), Params.str(a, 2), tasks.progress(c)));
    d.register(
        "VM.checkpoint", 3, true, true, (c, a) -> checkpoint(Params.str(a, 0), Params.str(a, 1)));
  }

  private Object snapshot(List<Object> a) throws XenApiException {
    if (a.size() < 2 || a.size() > 3) {
      throw new XenApiException(
          "MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.snapshot", "2", String.valueOf(a.size()));
    }
    String vm = Params.str(a, 0);
    String name = Params.str(a, 1);
    List<String> ignore = a.size() == 3 ? Params.strings(a.get(2), "ignore_vdis") : List.of();
    Map<String, Object> rec = db.record("VM", vm);
    preconditions.require(vm);
    // 1. Disks first; on a failure, the snapshots already made are removed again.
    Map<String, String> snapOf = new LinkedHashMap<>();
    try {
      for (String vbd : db.find("VBD", f -> vm.equals(f.get("VM")))) {
        Map<String, Object> b = db.record("VBD", vbd);
        String vdi = (String) b.get("VDI");
        boolean disk = "Disk".equals(b.get("type")) && !Boolean.TRUE.equals(b.get("empty"));
        if (disk && db.exists("VDI", vdi) && !ignore.contains(vdi)) {
          snapOf.put(vdi, storage.snapshotNoScan(vdi, false));
        }
      }
    } catch (XenApiException e) {
      for (String s : snapOf.values()) {
        destroyQuietly(s);
      }
      throw e;
    }
    // 2. The snapshot VM: the VM's fields, marked as a snapshot of it.
    Map<String, Object> f = storedFields("VM", rec);
    f.remove("uuid");
    f.put("name_label", name);
    f.put("is_a_snapshot", true);
    f.put("snapshot_of", vm);
    f.put("snapshot_time", Instant.now().truncatedTo(ChronoUnit.SECONDS));
    f.put(
        "snapshot_info",
        Map.of(
            "power-state-at-snapshot",
            rec.get("power_state"),
            "disk-snapshot-type",
            "crash_consistent"));
    f.put("snapshot_metadata", serialize(rec));
    f.put("transportable_snapshot_id", "");
    f.put("parent", rec.get("parent"));
    f.put("suspend_VDI", Schema.NULL_REF);
    f.put("power_state", "Halted");
    f.put("domid", -1L);
    f.put("resident_on", Schema.NULL_REF);
    String snap = db.create("VM", f);
    // 3. Its devices: VBDs onto the snapshot disks (CDs keep their ISO, empty ones stay empty),
    // VIFs with the same MACs, VGPUs.
    copyDevices(vm, snap, snapOf);
    // 4. The snapshot is now the VM's current one; one scan per SR shows the new base copies.
    db.set("VM", vm, "parent", snap);
    rescan(snapOf.keySet());
    return snap;
  }

  /**
   * VM.checkpoint: the memory goes into a suspend VDI (the guest paused for that instant), the
   * disks are snapshotted, and the snapshot VM is Suspended with that VDI; the VM runs on.
   */
  private Object checkpoint(String vm, String name) throws XenApiException {
    String state = (String) db.field("VM", vm, "power_state");
    if (!state.equals("Running") && !state.equals("Paused")) {
      throw new XenApiException("VM_BAD_POWER_STATE", vm, "running", state.toLowerCase());
    }
    preconditions.require(vm); // before the memory is saved: a refusal should cost nothing
    memory.setRunning(vm, false);
    String image;
    try {
      image = vms.saveMemory(vm, memory.snapshot(vm));
    } finally {
      memory.setRunning(vm, state.equals("Running"));
    }
    String snap;
    try {
      snap = (String) snapshot(List.of(vm, name));
    } catch (XenApiException e) {
      destroyQuietly(image);
      throw e;
    }
    Map<String, Object> f = new HashMap<>();
    f.put("power_state", "Suspended");
    f.put("suspend_VDI", image);
    f.put(
        "snapshot_info",
        Map.of("power-state-at-snapshot", state, "disk-snapshot-type", "crash_consistent"));
    db.set("VM", snap, f);
    return snap;
  }

  /**
   * VM.clone (disks cloned through the plugin, sharing data) and VM.copy (disks copied in full, to
   * {@code sr} if given): a new halted VM with the source's configuration and devices. A snapshot
   * may be the source: that is how a new VM is made from a snapshot.
   */
  private Object cloneVm(
      String vm, String name, String copyToSr, java.util.function.DoubleConsumer progress)
      throws XenApiException {
    Map<String, Object> rec = db.record("VM", vm);
    String state = (String) rec.get("power_state");
    if (!"Halted".equals(state) && !Boolean.TRUE.equals(rec.get("is_a_snapshot"))) {
      throw new XenApiException("VM_BAD_POWER_STATE", vm, "halted", state.toLowerCase());
    }
    boolean copy = copyToSr != null;
    Map<String, String> disks = new LinkedHashMap<>();
    try {
      List<String> vbds = db.find("VBD", f -> vm.equals(f.get("VM")));
      for (int i = 0; i < vbds.size(); i++) {
        Map<String, Object> b = db.record("VBD", vbds.get(i));
        String vdi = (String) b.get("VDI");
        boolean disk = "Disk".equals(b.get("type")) && !Boolean.TRUE.equals(b.get("empty"));
        if (disk && db.exists("VDI", vdi)) {
          String sr =
              copy && db.exists("SR", copyToSr) ? copyToSr : (String) db.field("VDI", vdi, "SR");
          // The task's progress: each disk an equal share, a copied disk by its bytes.
          double done = (double) i / vbds.size();
          double share = 1.0 / vbds.size();
          disks.put(
              vdi,
              copy
                  ? storage.copyVdi(vdi, sr, f -> progress.accept(done + share * f))
                  : storage.snapshotNoScan(vdi, true));
          progress.accept(done + share);
        }
      }
    } catch (XenApiException e) {
      for (String d : disks.values()) {
        destroyQuietly(d);
      }
      throw e;
    }
    Map<String, Object> f = storedFields("VM", rec);
    for (String k :
        List.of(
            "uuid",
            "snapshot_of",
            "snapshot_time",
            "snapshot_info",
            "snapshot_metadata",
            "parent",
            "suspend_VDI",
            "resident_on")) {
      f.remove(k);
    }
    f.put("name_label", name);
    f.put("is_a_snapshot", false);
    f.put("power_state", "Halted");
    f.put("domid", -1L);
    String newVm = db.create("VM", f);
    copyDevices(vm, newVm, disks);
    rescan(disks.values());
    return newVm;
  }

  private void copyDevices(String from, String to, Map<String, String> vdiMap)
      throws XenApiException {
    for (String cls : List.of("VBD", "VIF", "VGPU")) {
      for (String dev : db.find(cls, r -> from.equals(r.get("VM")))) {
        Map<String, Object> d = storedFields(cls, db.record(cls, dev));
        d.remove("uuid");
        d.put("VM", to);
        d.put("currently_attached", false);
        if (cls.equals("VBD")) {
          String vdi = (String) d.get("VDI");
          if (vdiMap.containsKey(vdi)) {
            d.put("VDI", vdiMap.get(vdi));
          } else if ("Disk".equals(d.get("type"))
              && !Boolean.TRUE.equals(d.get("empty"))
              && !(db.exists("VDI", vdi)
                  && Boolean.TRUE.equals(db.field("VDI", vdi, "is_a_snapshot")))) {
            continue; // a disk left out of the snapshot (ignore_vdis)
          }
        }
        db.create(cls, d);
      }
    }
  }

  private Object revert(String snap) throws XenApiException {
    Map<String, Object> s = db.record("VM", snap);
    if (!Boolean.TRUE.equals(s.get("is_a_snapshot"))) {
      throw new XenApiException("REVERT_ONLY_ALLOWED_ON_SNAPSHOT", snap);
    }
    Map<String, Object> meta = deserialize((String) s.get("snapshot_metadata"));
    String vm = (String) s.get("snapshot_of");
    if (!db.exists("VM", vm)) {
      // The VM was deleted since: it comes back from its snapshot.
      Map<String, Object> f = new HashMap<>();
      f.put("name_label", meta.get("name_label"));
      vm = db.create("VM", f);
      db.set("VM", snap, "snapshot_of", vm);
    }
    final String target = vm;
    String state = (String) db.field("VM", target, "power_state");
    if (!"Halted".equals(state)) {
      vms.hardShutdown(target);
    }
    // Fields back from the snapshot's metadata, except xapi's do-not-copy list.
    Map<String, Object> fields = new HashMap<>();
    ClassSpec vmSpec = Schema.get("VM");
    for (FieldSpec fs : vmSpec.fields()) {
      if (!fs.computed() && !DO_NOT_COPY.contains(fs.name()) && meta.containsKey(fs.name())) {
        fields.put(fs.name(), org.xsm.server.db.GenericMessages.coerce(fs, meta.get(fs.name())));
      }
    }
    db.set("VM", target, fields);
    // Disks: the current disks the snapshot has copies of are destroyed and replaced by clones of
    // the snapshot's disks; the other snapshots of an old disk now point at its clone. Disks added
    // after the snapshot stay, detached.
    Map<String, String> cloneOfSnapshotVdi = new HashMap<>();
    for (String vbd : db.find("VBD", r -> snap.equals(r.get("VM")))) {
      String svdi = (String) db.field("VBD", vbd, "VDI");
      if (db.exists("VDI", svdi) && Boolean.TRUE.equals(db.field("VDI", svdi, "is_a_snapshot"))) {
        cloneOfSnapshotVdi.put(svdi, storage.snapshotNoScan(svdi, true));
      }
    }
    for (Map.Entry<String, String> e : cloneOfSnapshotVdi.entrySet()) {
      String old = (String) db.field("VDI", e.getKey(), "snapshot_of");
      if (db.exists("VDI", old)) {
        for (String other : db.find("VDI", r -> old.equals(r.get("snapshot_of")))) {
          db.set("VDI", other, "snapshot_of", e.getValue());
        }
        for (String vbd :
            db.find("VBD", r -> target.equals(r.get("VM")) && old.equals(r.get("VDI")))) {
          db.destroy("VBD", vbd);
        }
        destroyQuietly(old);
      }
    }
    for (String cls : List.of("VIF", "VGPU")) {
      for (String dev : db.find(cls, r -> target.equals(r.get("VM")))) {
        db.destroy(cls, dev);
      }
    }
    for (String vbd : db.find("VBD", r -> target.equals(r.get("VM")))) {
      db.set("VBD", vbd, "currently_attached", false);
    }
    copyDevices(snap, target, cloneOfSnapshotVdi);
    db.set("VM", target, "parent", snap);
    rescan(cloneOfSnapshotVdi.values());
    // A checkpoint: the VM ends suspended with a copy of the saved memory; resume continues
    // from exactly those bytes.
    String savedMemory = (String) db.field("VM", snap, "suspend_VDI");
    if ("Suspended".equals(db.field("VM", snap, "power_state")) && db.exists("VDI", savedMemory)) {
      String copy = storage.snapshotNoScan(savedMemory, true);
      Map<String, Object> f = new HashMap<>();
      f.put("suspend_VDI", copy);
      f.put("power_state", "Suspended");
      db.set("VM", target, f);
    }
    return "";
  }

  private void rescan(java.util.Collection<String> vdis) throws XenApiException {
    java.util.Set<String> srs = new java.util.HashSet<>();
    for (String v : vdis) {
      if (db.exists("VDI", v)) {
        srs.add((String) db.field("VDI", v, "SR"));
      }
    }
    for (String sr : srs) {
      storageService.scan(sr);
    }
  }

  /**
   * Deletes one snapshot: its children move to its parent, a VM whose current snapshot it was
   * points at its parent; with {@code disks}, its disk and memory VDIs are destroyed too.
   */
  void deleteSnapshot(String snap, boolean disks) throws XenApiException {
    String parent = (String) db.field("VM", snap, "parent");
    for (String child : db.find("VM", f -> snap.equals(f.get("parent")))) {
      db.set("VM", child, "parent", parent);
    }
    List<String> vdisToDelete = new java.util.ArrayList<>();
    if (disks) {
      for (String vbd : db.find("VBD", f -> snap.equals(f.get("VM")))) {
        String vdi = (String) db.field("VBD", vbd, "VDI");
        if (db.exists("VDI", vdi)) {
          vdisToDelete.add(vdi);
        }
      }
      String mem = (String) db.field("VM", snap, "suspend_VDI");
      if (db.exists("VDI", mem)) {
        vdisToDelete.add(mem);
      }
    }
    for (String cls : List.of("VBD", "VIF", "VGPU")) {
      for (String dev : db.find(cls, f -> snap.equals(f.get("VM")))) {
        db.destroy(cls, dev);
      }
    }
    db.destroy("VM", snap);
    for (String vdi : vdisToDelete) {
      storage.destroyVdi(vdi);
    }
  }

  /** Deletes a snapshot's descendants, and itself too if {@code self}. */
  void deleteSubtree(String snap, boolean self) throws XenApiException {
    for (String child : db.find("VM", f -> snap.equals(f.get("parent")))) {
      if (Boolean.TRUE.equals(db.field("VM", child, "is_a_snapshot"))) {
        deleteSubtree(child, true);
      }
    }
    if (self) {
      deleteSnapshot(snap, true);
    }
  }

  private void destroyQuietly(String vdi) {
    try {
      storage.destroyVdi(vdi);
    } catch (XenApiException e) {
      // Best effort while undoing; the VDI then shows up in the next scan.
    }
  }

  private static Map<String, Object> storedFields(String cls, Map<String, Object> rec) {
    Map<String, Object> out = new HashMap<>();
    for (FieldSpec fs : Schema.get(cls).fields()) {
      if (!fs.computed() && rec.containsKey(fs.name())) {
        out.put(fs.name(), rec.get(fs.name()));
      }
    }
    return out;
  }

  private static String serialize(Map<String, Object> rec) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : rec.entrySet()) {
      Object v = e.getValue();
      m.put(e.getKey(), v instanceof Instant i ? i.toString() : v);
    }
    try {
      return JSON.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, Object> deserialize(String s) throws XenApiException {
    try {
      Map<String, Object> m =
          JSON.readValue(s, new TypeReference<LinkedHashMap<String, Object>>() {});
      for (FieldSpec fs : Schema.get("VM").fields()) {
        if (fs.type() == FieldType.DATETIME && m.get(fs.name()) instanceof String t) {
          m.put(fs.name(), Instant.parse(t));
        }
      }
      return m;
    } catch (JsonProcessingException | RuntimeException e) {
      throw new XenApiException("VM_REVERT_FAILED", "snapshot metadata is unreadable");
    }
  }
}
