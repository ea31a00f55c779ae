package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Host;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vgpu;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.nbd.NbdService;
import org.xsm.server.sr.SrService;
import org.xsm.server.vdi.VdiService;

/**
 * VM, VBD and VIF lifecycle. The power-state machine and its errors are xapi's; the domains are
 * this host's {@link org.xsm.server.domain.Domains} (QEMU or simulated, through {@link VmDomains}).
 * A running (or paused) VM keeps its disks attached and activated through the storage plugin,
 * exported by the NBD server (and on the local socket, where its domain reads them).
 */
@ApplicationScoped
public class VmService {
  @Inject Database db;
  @Inject SrService srs;
  @Inject VdiService vdis;
  @Inject HostService hosts;
  @Inject VmDomains domains;
  @Inject NbdService nbd;
  @Inject VmRecords records;
  @Inject VmOperations operations;
  @Inject VmDisks disks;
  private final AtomicLong domids = new AtomicLong(1);

  /** A new halted VM (VM.create), with the fields the client's record sets. */
  public Ref<Vm> create(Values<Vm> fields) throws XenApiException {
    checkRefs(fields);
    // As xapi: every VM gets the seed its generated VIF MACs derive from.
    java.util.Map<String, String> oc = new java.util.LinkedHashMap<>();
    if (fields.stored().get(Vm.OTHER_CONFIG.name()) instanceof java.util.Map<?, ?> m) {
      m.forEach((k, v) -> oc.put(String.valueOf(k), String.valueOf(v)));
    }
    oc.putIfAbsent(VmDevices.MAC_SEED, java.util.UUID.randomUUID().toString());
    fields.with(Vm.OTHER_CONFIG, oc).with(Vm.POWER_STATE, PowerState.HALTED).with(Vm.DOMID, -1L);
    return records.create(fields);
  }

  /** A new VBD (VBD.create) of an existing VM. */
  public Ref<Vbd> createVbd(Values<Vbd> fields) throws XenApiException {
    Object vm = fields.stored().get(Vbd.VM.name());
    if (vm == null || !db.exists(Vm.CLASS, Ref.of(String.valueOf(vm)))) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "VM", String.valueOf(vm));
    }
    checkRefs(fields);
    return db.create(Vbd.CLASS, fields);
  }

  /** A new VIF (VIF.create). */
  public Ref<Vif> createVif(Values<Vif> fields) throws XenApiException {
    checkRefs(fields);
    return db.create(Vif.CLASS, fields);
  }

  /** Every reference a new record sets must name an existing record of its class. */
  private <C> void checkRefs(Values<C> fields) throws XenApiException {
    for (var e : fields.stored().entrySet()) {
      var f = fields.cls().field(e.getKey());
      if (f.type() == org.xsm.server.model.FieldType.REF
          && e.getValue() instanceof String r
          && !Ref.of(r).isNull()) {
        XClass<?> target = org.xsm.server.model.Schema.get(f.refClass());
        if (target == null || db.classOf(r) != target) {
          throw new XenApiException(XenApiError.HANDLE_INVALID, f.refClass(), r);
        }
      }
    }
  }

  private XenApiException badState(Ref<Vm> vm, PowerState expected, PowerState actual) {
    return new XenApiException(
        XenApiError.VM_BAD_POWER_STATE,
        vm.value(),
        expected.wire().toLowerCase(Locale.ROOT),
        actual.wire().toLowerCase(Locale.ROOT));
  }

  private Row<Vm> requireState(Ref<Vm> vm, PowerState expected) throws XenApiException {
    Row<Vm> r = db.read(Vm.CLASS, vm);
    if (r.get(Vm.POWER_STATE) != expected) {
      throw badState(vm, expected, r.get(Vm.POWER_STATE));
    }
    if (r.get(Vm.IS_A_SNAPSHOT)) {
      throw new XenApiException(XenApiError.VM_IS_SNAPSHOT, vm.value());
    }
    if (r.get(Vm.IS_A_TEMPLATE)) {
      throw new XenApiException(XenApiError.VM_IS_TEMPLATE, vm.value());
    }
    return r;
  }

  /** VM.destroy: a halted or suspended VM and its devices. */
  public void destroy(Ref<Vm> vm) throws XenApiException {
    if (db.get(vm, Vm.IS_DEFAULT_TEMPLATE)) {
      throw new XenApiException(XenApiError.VM_IS_TEMPLATE, vm.value(), "destroy");
    }
    PowerState s = db.get(vm, Vm.POWER_STATE);
    if (s != PowerState.HALTED && s != PowerState.SUSPENDED) {
      throw badState(vm, PowerState.HALTED, s);
    }
    // As xapi: the VM's children (in the snapshot tree) now hang from its parent.
    Ref<Vm> parent = db.get(vm, Vm.PARENT);
    for (Ref<Vm> child : db.get(vm, Vm.CHILDREN)) {
      db.set(child, Vm.PARENT, db.exists(Vm.CLASS, parent) ? parent : Ref.nullRef());
    }
    destroyDevices(vm);
    records.destroy(vm);
  }

  /** Drops a VM's VBDs, VIFs and VGPUs (not their disks). */
  void destroyDevices(Ref<Vm> vm) throws XenApiException {
    for (Ref<Vbd> d : db.get(vm, Vm.VBDS)) {
      db.destroy(Vbd.CLASS, d);
    }
    for (Ref<Vif> d : db.get(vm, Vm.VIFS)) {
      db.destroy(Vif.CLASS, d);
    }
    for (Ref<Vgpu> d : db.get(vm, Vm.VGPUS)) {
      db.destroy(Vgpu.CLASS, d);
    }
    for (Ref<org.xsm.server.model.Vtpm> d : db.get(vm, Vm.VTPMS)) {
      db.destroy(org.xsm.server.model.Vtpm.CLASS, d);
    }
    for (Ref<org.xsm.server.model.Console> d : db.get(vm, Vm.CONSOLES)) {
      db.destroy(org.xsm.server.model.Console.CLASS, d);
    }
  }

  /** Attaches every device of the VM on {@code host}; on failure detaches those attached. */
  private void attachDevices(Ref<Vm> vm, Ref<Host> host) throws XenApiException {
    disks.attachAll(vm, host);
  }

  /** After a restart: the devices of a domain that survived it are activated and exported again. */
  void replugDevices(Ref<Vm> vm) throws XenApiException {
    disks.replug(vm);
  }

  /** Detaches the VM's devices on the host it runs on (before its record says Halted). */
  private void detachDevices(Ref<Vm> vm) throws XenApiException {
    disks.detachAll(vm);
    vifsAttached(vm, false);
  }

  /** A domain's network interfaces come and go with it (xapi plugs every VIF at start). */
  private void vifsAttached(Ref<Vm> vm, boolean attached) throws XenApiException {
    for (Ref<Vif> vif : db.get(vm, Vm.VIFS)) {
      if (db.exists(Vif.CLASS, vif) && db.get(vif, Vif.CURRENTLY_ATTACHED) != attached) {
        db.set(vif, Vif.CURRENTLY_ATTACHED, attached);
      }
    }
  }

  /** VM.start. */
  public void start(Ref<Vm> vm, boolean paused) throws XenApiException {
    start(vm, paused, hostToStartOn(vm));
  }

  /**
   * Where VM.start runs a VM: its {@code affinity} host when that is a live host of the pool where
   * its disks can be reached (as xapi prefers it), else this host.
   */
  private Ref<Host> hostToStartOn(Ref<Vm> vm) throws XenApiException {
    Ref<Host> affinity = db.get(vm, Vm.AFFINITY);
    if (affinity.isNull() || !db.exists(Host.CLASS, affinity)) {
      return hosts.host();
    }
    Ref<org.xsm.server.model.HostMetrics> m = db.get(affinity, Host.METRICS);
    boolean live =
        affinity.equals(hosts.host())
            || (db.exists(org.xsm.server.model.HostMetrics.CLASS, m)
                && db.get(m, org.xsm.server.model.HostMetrics.LIVE));
    if (!live) {
      return hosts.host();
    }
    try {
      disks.assertReachable(vm, affinity);
      return affinity;
    } catch (XenApiException e) {
      return hosts.host(); // its disks are not reachable there
    }
  }

  /** VM.start_on: as VM.start, on {@code host} (this host, or another host of the pool). */
  public void start(Ref<Vm> vm, boolean paused, Ref<Host> host) throws XenApiException {
    requireState(vm, PowerState.HALTED);
    if (db.get(vm, Vm.BIOS_STRINGS).isEmpty()) {
      db.set(vm, Vm.BIOS_STRINGS, VmConfig.GENERIC_BIOS_STRINGS); // as xapi at a first start
    }
    run(vm, paused, host);
  }

  /** VM.resume. */
  public void resume(Ref<Vm> vm, boolean paused) throws XenApiException {
    resume(vm, paused, hosts.host());
  }

  /** VM.resume_on. */
  public void resume(Ref<Vm> vm, boolean paused, Ref<Host> host) throws XenApiException {
    requireState(vm, PowerState.SUSPENDED);
    run(vm, paused, host);
  }

  /** VM_REQUIRES_SR unless every disk's SR is plugged on {@code host} (see {@link VmDisks}). */
  void assertDisksReachable(Ref<Vm> vm, Ref<Host> host) throws XenApiException {
    disks.assertReachable(vm, host);
  }

  /** The domain comes up: disks attached, memory booted or restored, a domid, its host. */
  private void run(Ref<Vm> vm, boolean paused, Ref<Host> host) throws XenApiException {
    assertDisksReachable(vm, host);
    Ref<Vdi> suspendVdi = db.get(vm, Vm.SUSPEND_VDI);
    attachDevices(vm, host);
    vifsAttached(vm, true);
    try {
      if (db.exists(Vdi.CLASS, suspendVdi)) {
        try (var image = srs.readShared(suspendVdi)) {
          domains.create(vm, paused, java.util.Optional.of(image.device()), host);
        }
        db.set(vm, Vm.SUSPEND_VDI, Ref.nullRef());
        vdis.destroy(suspendVdi);
      } else {
        domains.create(vm, paused, java.util.Optional.empty(), host);
      }
    } catch (XenApiException e) {
      detachDevices(vm);
      throw e;
    }
    db.update(
        Vm.CLASS,
        vm,
        Values.of(Vm.CLASS)
            .with(Vm.POWER_STATE, paused ? PowerState.PAUSED : PowerState.RUNNING)
            .with(Vm.DOMID, domids.getAndIncrement())
            .with(Vm.RESIDENT_ON, host));
    records.refreshMetrics(vm);
  }

  static Values<Vm> halted() {
    return Values.of(Vm.CLASS)
        .with(Vm.POWER_STATE, PowerState.HALTED)
        .with(Vm.DOMID, -1L)
        .with(Vm.RESIDENT_ON, Ref.nullRef());
  }

  /** VM.clean_shutdown ({@code hard} false) and VM.hard_shutdown. */
  public void halt(Ref<Vm> vm, boolean hard) throws XenApiException {
    PowerState s = db.get(vm, Vm.POWER_STATE);
    boolean allowed =
        s == PowerState.RUNNING || (hard && (s == PowerState.PAUSED || s == PowerState.SUSPENDED));
    if (!allowed) {
      throw badState(vm, PowerState.RUNNING, s);
    }
    if (s != PowerState.SUSPENDED) {
      domains.stop(vm, hard);
      detachDevices(vm);
    } else {
      Ref<Vdi> sv = db.get(vm, Vm.SUSPEND_VDI);
      db.set(vm, Vm.SUSPEND_VDI, Ref.nullRef());
      if (db.exists(Vdi.CLASS, sv)) {
        vdis.destroy(sv);
      }
    }
    db.update(Vm.CLASS, vm, halted());
    records.refreshMetrics(vm);
  }

  /** The VM's domain ended by itself (it is gone): devices detached, the record Halted. */
  void domainGone(Ref<Vm> vm) throws XenApiException {
    detachDevices(vm);
    db.update(Vm.CLASS, vm, halted());
    records.refreshMetrics(vm);
  }

  /** VM.pause and VM.unpause. */
  public void transition(Ref<Vm> vm, PowerState from, PowerState to) throws XenApiException {
    requireState(vm, from);
    if (to == PowerState.RUNNING) {
      domains.unpause(vm);
    } else {
      domains.pause(vm);
    }
    db.set(vm, Vm.POWER_STATE, to);
    records.refreshMetrics(vm);
  }

  /** VM.suspend: memory into a suspend VDI, the domain ended, devices detached. */
  public void suspend(Ref<Vm> vm) throws XenApiException {
    requireState(vm, PowerState.RUNNING);
    domains.pause(vm);
    Ref<Vdi> image;
    try {
      image = domains.saveMemoryToVdi(vm);
    } catch (XenApiException e) {
      domains.unpause(vm);
      throw e;
    }
    domains.stop(vm, true);
    detachDevices(vm);
    db.update(
        Vm.CLASS,
        vm,
        halted().with(Vm.POWER_STATE, PowerState.SUSPENDED).with(Vm.SUSPEND_VDI, image));
    records.refreshMetrics(vm);
  }

  /** VBD.destroy, VIF.destroy: only when unplugged. */
  public <C> void destroyDevice(XClass<C> cls, Ref<C> ref, boolean attached)
      throws XenApiException {
    if (attached) {
      throw new XenApiException(
          XenApiError.OPERATION_NOT_ALLOWED, cls.name() + " " + ref + " is plugged");
    }
    db.destroy(cls, ref);
  }

  /** VBD.plug: onto a running VM, or the control domain (a disk for a client: NBD, backup). */
  public void plug(Ref<Vbd> vbd) throws XenApiException {
    Row<Vm> vm = db.read(Vm.CLASS, db.get(vbd, Vbd.VM));
    PowerState s = vm.get(Vm.POWER_STATE);
    boolean up = s == PowerState.RUNNING || s == PowerState.PAUSED;
    if (!vm.get(Vm.IS_CONTROL_DOMAIN) && !up) {
      throw badState(vm.ref(), PowerState.RUNNING, s);
    }
    if (db.get(vbd, Vbd.CURRENTLY_ATTACHED)) {
      throw new XenApiException(XenApiError.DEVICE_ALREADY_ATTACHED, vbd.value());
    }
    disks.plug(vbd, vm.get(Vm.RESIDENT_ON));
  }

  /** VBD.unplug. */
  public void unplug(Ref<Vbd> vbd) throws XenApiException {
    if (!db.get(vbd, Vbd.CURRENTLY_ATTACHED)) {
      throw new XenApiException(XenApiError.DEVICE_ALREADY_DETACHED, vbd.value());
    }
    disks.unplug(vbd, db.get(db.get(vbd, Vbd.VM), Vm.RESIDENT_ON));
  }

  /** A domain id not given yet: the ids of domains that survived a restart stay theirs. */
  void noteDomid(long used) {
    domids.accumulateAndGet(used + 1, Math::max);
  }
}
