package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.xsm.server.boot.Bootstrap;
import org.xsm.server.db.ClassSpec;
import org.xsm.server.db.Database;
import org.xsm.server.db.FieldSpec;
import org.xsm.server.db.GenericMessages;
import org.xsm.server.db.Schema;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.XenApiException;
import org.xsm.server.storage.StorageService;

/**
 * VM, VBD and VIF lifecycle. VMs are simulated domains (there is no hypervisor): the power-state
 * machine and its errors are xapi's, and a running (or paused) VM keeps its disks attached and
 * activated through the storage plugin, so storage sees what it would see under a real VM.
 */
@ApplicationScoped
public class VmMessages implements RpcModule {
  @Inject Database db;
  @Inject StorageService storage;
  @Inject Bootstrap boot;
  @Inject MemoryImages memory;
  @Inject org.xsm.server.storage.StorageMessages vdis;
  @Inject org.xsm.server.nbd.NbdService nbd;
  private final AtomicLong domids = new AtomicLong(1);

  @Override
  public void register(Dispatcher d) {
    d.register("VM.create", 2, true, true, (c, a) -> create("VM", Params.map(a.get(0), "args")));
    d.register("VM.destroy", 2, true, true, (c, a) -> destroyVm(Params.str(a, 0)));
    d.register(
        "VM.start",
        4,
        true,
        true,
        (c, a) -> start(Params.str(a, 0), Params.bool(a.get(1), "start_paused")));
    d.register("VM.clean_shutdown", 2, true, true, (c, a) -> halt(Params.str(a, 0), false));
    d.register("VM.hard_shutdown", 2, true, true, (c, a) -> halt(Params.str(a, 0), true));
    d.register(
        "VM.pause", 2, true, true, (c, a) -> transition(Params.str(a, 0), "Running", "Paused"));
    d.register(
        "VM.unpause", 2, true, true, (c, a) -> transition(Params.str(a, 0), "Paused", "Running"));
    d.register("VM.suspend", 2, true, true, (c, a) -> suspend(Params.str(a, 0)));
    d.register(
        "VM.resume",
        4,
        true,
        true,
        (c, a) -> resume(Params.str(a, 0), Params.bool(a.get(1), "start_paused")));
    d.register("VBD.create", 2, true, true, (c, a) -> createVbd(Params.map(a.get(0), "args")));
    d.register("VBD.destroy", 2, true, true, (c, a) -> destroyDevice("VBD", Params.str(a, 0)));
    d.register("VBD.plug", 2, true, true, (c, a) -> plug(Params.str(a, 0)));
    d.register("VBD.unplug", 2, true, true, (c, a) -> unplug(Params.str(a, 0)));
    d.register("VIF.create", 2, true, true, (c, a) -> create("VIF", Params.map(a.get(0), "args")));
    d.register("VIF.destroy", 2, true, true, (c, a) -> destroyDevice("VIF", Params.str(a, 0)));
  }

  /** Creates a record from a client's record argument (unknown keys ignored, types coerced). */
  String create(String cls, Map<String, Object> args) throws XenApiException {
    ClassSpec c = Schema.get(cls);
    Map<String, Object> f = new HashMap<>();
    for (Map.Entry<String, Object> e : args.entrySet()) {
      FieldSpec fs = c.field(e.getKey());
      if (fs != null && !fs.computed() && !fs.name().equals("uuid")) {
        f.put(fs.name(), GenericMessages.coerce(fs, e.getValue()));
      }
    }
    for (FieldSpec fs : c.fields()) {
      if (fs.type() == org.xsm.server.db.FieldType.REF
          && f.get(fs.name()) instanceof String r
          && !r.isEmpty()
          && !r.equals(Schema.NULL_REF)
          && !db.exists(fs.refClass(), r)) {
        throw new XenApiException("HANDLE_INVALID", fs.refClass(), r);
      }
    }
    if (cls.equals("VM")) {
      f.put("power_state", "Halted");
      f.put("domid", -1L);
    }
    return db.create(cls, f);
  }

  private String state(String vm) throws XenApiException {
    return (String) db.field("VM", vm, "power_state");
  }

  private XenApiException badState(String vm, String expected, String actual) {
    return new XenApiException(
        "VM_BAD_POWER_STATE",
        vm,
        expected.toLowerCase(Locale.ROOT),
        actual.toLowerCase(Locale.ROOT));
  }

  private void requireState(String vm, String expected) throws XenApiException {
    String s = state(vm);
    if (!s.equals(expected)) {
      throw badState(vm, expected, s);
    }
    if (Boolean.TRUE.equals(db.field("VM", vm, "is_a_snapshot"))) {
      throw new XenApiException("VM_IS_SNAPSHOT", vm);
    }
    if (Boolean.TRUE.equals(db.field("VM", vm, "is_a_template"))) {
      throw new XenApiException("VM_IS_TEMPLATE", vm);
    }
  }

  private Object destroyVm(String vm) throws XenApiException {
    String s = state(vm);
    if (!s.equals("Halted") && !s.equals("Suspended")) {
      throw badState(vm, "Halted", s);
    }
    for (String cls : List.of("VBD", "VIF", "VGPU")) {
      for (String dev : db.find(cls, f -> vm.equals(f.get("VM")))) {
        db.destroy(cls, dev);
      }
    }
    db.destroy("VM", vm);
    return "";
  }

  private List<String> diskVbds(String vm) {
    return db.find("VBD", f -> vm.equals(f.get("VM")) && !Boolean.TRUE.equals(f.get("empty")));
  }

  /** Attaches every disk of the VM; on failure detaches those already attached. */
  private void attachDisks(String vm) throws XenApiException {
    List<String> done = new ArrayList<>();
    try {
      for (String vbd : diskVbds(vm)) {
        plugDisk(vbd);
        done.add(vbd);
      }
    } catch (XenApiException e) {
      for (String vbd : done) {
        unplugDisk(vbd);
      }
      throw e;
    }
  }

  private void plugDisk(String vbd) throws XenApiException {
    String vdi = (String) db.field("VBD", vbd, "VDI");
    if (db.exists("VDI", vdi)) {
      boolean rw = "RW".equals(db.field("VBD", vbd, "mode"));
      nbd.exportVdi(vdi, storage.activate(vdi, rw), !rw);
    }
    db.set("VBD", vbd, "currently_attached", true);
  }

  private void unplugDisk(String vbd) throws XenApiException {
    String vdi = (String) db.field("VBD", vbd, "VDI");
    if (db.exists("VDI", vdi) && Boolean.TRUE.equals(db.field("VBD", vbd, "currently_attached"))) {
      nbd.unexportVdi(vdi); // its connections close before the device goes
      storage.deactivate(vdi);
    }
    db.set("VBD", vbd, "currently_attached", false);
  }

  private void detachDisks(String vm) throws XenApiException {
    for (String vbd : diskVbds(vm)) {
      unplugDisk(vbd);
    }
  }

  private Object start(String vm, boolean paused) throws XenApiException {
    requireState(vm, "Halted");
    return run(vm, paused);
  }

  /** The domain comes up: disks attached, memory booted or restored, a domid, this host. */
  private Object run(String vm, boolean paused) throws XenApiException {
    String suspendVdi = (String) db.field("VM", vm, "suspend_VDI");
    byte[] saved = null;
    if (db.exists("VDI", suspendVdi)) {
      saved = vdis.readVdi(suspendVdi, MemoryImages.SIZE_BYTES);
    }
    attachDisks(vm);
    if (saved != null) {
      memory.restore(vm, saved, !paused);
      db.set("VM", vm, "suspend_VDI", Schema.NULL_REF);
      vdis.destroyVdi(suspendVdi);
    } else {
      memory.boot(vm, !paused);
    }
    Map<String, Object> f = new HashMap<>();
    f.put("power_state", paused ? "Paused" : "Running");
    f.put("domid", domids.getAndIncrement());
    f.put("resident_on", boot.host());
    db.set("VM", vm, f);
    return "";
  }

  private Object halt(String vm, boolean hard) throws XenApiException {
    String s = state(vm);
    if (!s.equals("Running") && !(s.equals("Paused") && hard) && !(s.equals("Suspended") && hard)) {
      throw badState(vm, "Running", s);
    }
    if (!s.equals("Suspended")) {
      detachDisks(vm);
    } else {
      String sv = (String) db.field("VM", vm, "suspend_VDI");
      db.set("VM", vm, "suspend_VDI", Schema.NULL_REF);
      if (db.exists("VDI", sv)) {
        vdis.destroyVdi(sv);
      }
    }
    memory.drop(vm);
    Map<String, Object> f = new HashMap<>();
    f.put("power_state", "Halted");
    f.put("domid", -1L);
    f.put("resident_on", Schema.NULL_REF);
    db.set("VM", vm, f);
    return "";
  }

  private Object transition(String vm, String from, String to) throws XenApiException {
    requireState(vm, from);
    db.set("VM", vm, "power_state", to);
    memory.setRunning(vm, "Running".equals(to));
    return "";
  }

  /** Writes the VM's memory into a new suspend VDI on its suspend SR (or the pool's default). */
  String saveMemory(String vm, byte[] image) throws XenApiException {
    String sr = (String) db.field("VM", vm, "suspend_SR");
    if (!db.exists("SR", sr)) {
      sr = (String) db.field("pool", db.all("pool").get(0), "default_SR");
    }
    return vdis.createVdiWith(
        sr, "Suspend image of " + db.field("VM", vm, "name_label"), "suspend", image);
  }

  private Object suspend(String vm) throws XenApiException {
    requireState(vm, "Running");
    memory.setRunning(vm, false);
    String image = saveMemory(vm, memory.snapshot(vm));
    detachDisks(vm);
    memory.drop(vm);
    Map<String, Object> f = new HashMap<>();
    f.put("suspend_VDI", image);
    f.put("power_state", "Suspended");
    f.put("domid", -1L);
    f.put("resident_on", Schema.NULL_REF);
    db.set("VM", vm, f);
    return "";
  }

  private Object resume(String vm, boolean paused) throws XenApiException {
    requireState(vm, "Suspended");
    return run(vm, paused);
  }

  private String createVbd(Map<String, Object> args) throws XenApiException {
    Object vm = args.get("VM");
    if (vm == null || !db.exists("VM", String.valueOf(vm))) {
      throw new XenApiException("HANDLE_INVALID", "VM", String.valueOf(vm));
    }
    return create("VBD", args);
  }

  private Object destroyDevice(String cls, String ref) throws XenApiException {
    if (Boolean.TRUE.equals(db.field(cls, ref, "currently_attached"))) {
      throw new XenApiException("OPERATION_NOT_ALLOWED", cls + " " + ref + " is plugged");
    }
    db.destroy(cls, ref);
    return "";
  }

  private Object plug(String vbd) throws XenApiException {
    String vm = (String) db.field("VBD", vbd, "VM");
    String s = state(vm);
    // The control domain is always up: a VBD there attaches a disk for a client (NBD, backup).
    boolean dom0 = Boolean.TRUE.equals(db.field("VM", vm, "is_control_domain"));
    if (!dom0 && !s.equals("Running") && !s.equals("Paused")) {
      throw badState(vm, "Running", s);
    }
    if (Boolean.TRUE.equals(db.field("VBD", vbd, "currently_attached"))) {
      throw new XenApiException("DEVICE_ALREADY_ATTACHED", vbd);
    }
    plugDisk(vbd);
    return "";
  }

  private Object unplug(String vbd) throws XenApiException {
    if (!Boolean.TRUE.equals(db.field("VBD", vbd, "currently_attached"))) {
      throw new XenApiException("DEVICE_ALREADY_DETACHED", vbd);
    }
    unplugDisk(vbd);
    return "";
  }

  /** VM.hard_shutdown, for revert. */
  void hardShutdown(String vm) throws XenApiException {
    halt(vm, true);
  }

  /** After a restart no simulated domain survives: running VMs are halted, devices unplugged. */
  public void haltAllAfterRestart() throws XenApiException {
    for (String vm :
        db.find(
            "VM",
            f ->
                !"Halted".equals(f.get("power_state"))
                    && !"Suspended".equals(f.get("power_state")))) {
      Map<String, Object> f = new HashMap<>();
      f.put("power_state", "Halted");
      f.put("domid", -1L);
      f.put("resident_on", Schema.NULL_REF);
      db.set("VM", vm, f);
    }
    for (String vbd : db.find("VBD", f -> Boolean.TRUE.equals(f.get("currently_attached")))) {
      db.set("VBD", vbd, "currently_attached", false);
    }
  }
}
