package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;

/**
 * The VM records after domains were lost: at a start (or a member's take-over as master) the VMs of
 * this host whose domain did not survive are halted and their devices unplugged; when a host of the
 * pool dies, the VMs resident on it are halted in the records. VMs running on other live hosts are
 * theirs and left alone.
 */
@ApplicationScoped
public class VmRecovery {
  @Inject Database db;
  @Inject VmService vms;
  @Inject VmRecords records;
  @Inject VmOperations operations;
  @Inject jakarta.enterprise.inject.Instance<org.xsm.server.sr.HostStorage> hostStorage;

  /**
   * After a restart: running VMs whose domain did not survive ({@code survivors}: the UUIDs of
   * those that did) are halted, their devices unplugged; the others keep their state and devices,
   * which {@link #replugDevices} activates again once the SRs are plugged.
   */
  public void haltAllAfterRestart(java.util.Set<String> survivors, Ref<Host> self)
      throws XenApiException {
    // In a pool, the VMs that run on other hosts are theirs: only this host's are checked.
    List<Ref<Vm>> up =
        db.fullScan(
            Vm.CLASS,
            r ->
                r.get(Vm.POWER_STATE) != PowerState.HALTED
                    && r.get(Vm.POWER_STATE) != PowerState.SUSPENDED
                    && (r.get(Vm.RESIDENT_ON).equals(self)
                        || !db.exists(Host.CLASS, r.get(Vm.RESIDENT_ON))));
    java.util.Set<Ref<Vm>> kept = new java.util.HashSet<>();
    for (Ref<Vm> vm : up) {
      if (survivors.contains(db.get(vm, Vm.UUID))) {
        kept.add(vm);
        vms.noteDomid(db.get(vm, Vm.DOMID));
      } else if (!db.get(vm, Vm.IS_CONTROL_DOMAIN)) {
        db.update(Vm.CLASS, vm, VmService.halted());
        records.refreshMetrics(vm);
      }
    }
    java.util.function.Predicate<Ref<Vm>> mine = v -> !kept.contains(v) && !runsElsewhere(v, self);
    for (Ref<Vbd> vbd : db.fullScan(Vbd.CLASS, r -> r.get(Vbd.CURRENTLY_ATTACHED))) {
      if (mine.test(db.get(vbd, Vbd.VM))) {
        db.set(vbd, Vbd.CURRENTLY_ATTACHED, false);
      }
    }
    for (Ref<Vif> vif : db.fullScan(Vif.CLASS, r -> r.get(Vif.CURRENTLY_ATTACHED))) {
      if (mine.test(db.get(vif, Vif.VM))) {
        db.set(vif, Vif.CURRENTLY_ATTACHED, false);
      }
    }
    // No operation survives a restart either (xapi resets current_operations at start); every VM's
    // allowed operations are computed anew.
    for (Ref<Vm> vm : db.all(Vm.CLASS)) {
      if (!db.get(vm, Vm.CURRENT_OPERATIONS).isEmpty() && !runsElsewhere(vm, self)) {
        db.set(vm, Vm.CURRENT_OPERATIONS, java.util.Map.of());
      }
      operations.update(vm);
    }
  }

  /** Whether a VM runs on another host of the pool (whose server, not this one, manages it). */
  private boolean runsElsewhere(Ref<Vm> vm, Ref<Host> self) {
    Row<Vm> r = db.readOrNull(Vm.CLASS, vm);
    if (r == null) {
      return false;
    }
    PowerState p = r.get(Vm.POWER_STATE);
    Ref<Host> on = r.get(Vm.RESIDENT_ON);
    return p != PowerState.HALTED
        && p != PowerState.SUSPENDED
        && !on.equals(self)
        && db.exists(Host.CLASS, on);
  }

  /**
   * A host of the pool is dead (its heartbeats stopped): the VMs resident on it are halted in the
   * records and their devices unplugged, as xapi does when it marks a host not live.
   */
  public List<Ref<Vm>> haltResidentOn(Ref<Host> host) throws XenApiException {
    List<Ref<Vm>> on =
        db.fullScan(
            Vm.CLASS,
            r ->
                r.get(Vm.RESIDENT_ON).equals(host)
                    && !r.get(Vm.IS_CONTROL_DOMAIN)
                    && r.get(Vm.POWER_STATE) != PowerState.HALTED
                    && r.get(Vm.POWER_STATE) != PowerState.SUSPENDED);
    for (Ref<Vm> vm : on) {
      db.update(Vm.CLASS, vm, VmService.halted());
      records.refreshMetrics(vm);
      for (Ref<Vbd> vbd : db.get(vm, Vm.VBDS)) {
        if (db.get(vbd, Vbd.CURRENTLY_ATTACHED) && hostStorage.isResolvable()) {
          hostStorage.get().forgetVdi(db.get(vbd, Vbd.VDI)); // no longer written there
        }
        db.set(vbd, Vbd.CURRENTLY_ATTACHED, false);
      }
      for (Ref<Vif> vif : db.get(vm, Vm.VIFS)) {
        db.set(vif, Vif.CURRENTLY_ATTACHED, false);
      }
      operations.update(vm);
    }
    return on;
  }
}
