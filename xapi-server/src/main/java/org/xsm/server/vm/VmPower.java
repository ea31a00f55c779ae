package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Host;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.vm.VmOperations.Op;

/**
 * The power messages beyond start/shutdown/suspend (xapi_vm.ml): reboots, {@code shutdown}, {@code
 * start_on}/{@code resume_on} (this host only), {@code power_state_reset}, and the migrations,
 * which in a pool of one host are xapi's localhost migrations: the domain stays where it is.
 */
@ApplicationScoped
public class VmPower {
  @Inject Database db;
  @Inject VmService vms;
  @Inject VmOperations operations;
  @Inject HostService hosts;
  @Inject VmRecords records;
  @Inject VmDomains domains;
  @Inject VmDisks disks;
  @Inject org.xsm.server.migrate.StorageMigration migration;

  /** VM.clean_reboot ({@code hard} false) and VM.hard_reboot: the domain restarts. */
  public void reboot(Ref<Vm> vm, boolean hard) throws XenApiException {
    Row<Vm> r = operations.assertValid(vm, hard ? Op.HARD_REBOOT : Op.CLEAN_REBOOT);
    if (r.get(Vm.POWER_STATE) == PowerState.PAUSED) {
      vms.transition(vm, PowerState.PAUSED, PowerState.RUNNING);
    }
    vms.halt(vm, hard);
    vms.start(vm, false);
  }

  /** VM.shutdown: a clean shutdown, hard when the guest cannot do it (a paused or suspended VM). */
  public void shutdown(Ref<Vm> vm) throws XenApiException {
    Row<Vm> r = operations.assertValid(vm, Op.SHUTDOWN);
    vms.halt(vm, r.get(Vm.POWER_STATE) != PowerState.RUNNING);
  }

  private void assertThisHost(Ref<Host> host) throws XenApiException {
    if (!db.exists(Host.CLASS, host) || !host.equals(hosts.host())) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "host", host.value());
    }
  }

  /** A host of the pool that is live (xapi: HOST_OFFLINE for one that is not). */
  private void assertLiveHost(Ref<Host> host) throws XenApiException {
    if (!db.exists(Host.CLASS, host)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "host", host.value());
    }
    Ref<org.xsm.server.model.HostMetrics> m = db.get(host, Host.METRICS);
    if (!host.equals(hosts.host())
        && db.exists(org.xsm.server.model.HostMetrics.CLASS, m)
        && !db.get(m, org.xsm.server.model.HostMetrics.LIVE)) {
      throw new XenApiException(XenApiError.HOST_OFFLINE, host.value());
    }
  }

  /** VM.start_on: on any live host of the pool. */
  public void startOn(Ref<Vm> vm, Ref<Host> host, boolean paused) throws XenApiException {
    assertLiveHost(host);
    operations.assertValid(vm, Op.START_ON);
    vms.start(vm, paused, host);
  }

  /** VM.resume_on. */
  public void resumeOn(Ref<Vm> vm, Ref<Host> host, boolean paused) throws XenApiException {
    assertLiveHost(host);
    operations.assertValid(vm, Op.RESUME_ON);
    vms.resume(vm, paused, host);
  }

  /** VM.assert_can_boot_here: this host runs every VM that may start. */
  public void assertCanBootHere(Ref<Vm> vm, Ref<Host> host) throws XenApiException {
    assertThisHost(host);
    Row<Vm> r = db.read(Vm.CLASS, vm);
    if (r.get(Vm.IS_A_TEMPLATE) || r.get(Vm.IS_A_SNAPSHOT)) {
      throw new XenApiException(XenApiError.VM_IS_TEMPLATE, vm.value(), Op.START.wire());
    }
    VmConfig.checkMemory(r);
  }

  /**
   * VM.power_state_reset: forces the record to Halted (for a domain that is known to be gone);
   * refused for the control domain.
   */
  public void powerStateReset(Ref<Vm> vm) throws XenApiException {
    Row<Vm> r = db.read(Vm.CLASS, vm);
    if (r.get(Vm.IS_CONTROL_DOMAIN)) {
      throw new XenApiException(XenApiError.CANNOT_RESET_CONTROL_DOMAIN, vm.value());
    }
    if (r.get(Vm.POWER_STATE) != PowerState.HALTED) {
      vms.halt(vm, true);
    }
  }

  /**
   * VM.pool_migrate: the running (or paused) VM's domain moves to {@code host} live; to the host it
   * is on, xapi's localhost migration, which changes nothing.
   */
  public void poolMigrate(Ref<Vm> vm, Ref<Host> host) throws XenApiException {
    assertLiveHost(host);
    Row<Vm> r = operations.assertValid(vm, Op.POOL_MIGRATE);
    if (host.equals(r.get(Vm.RESIDENT_ON))) {
      return;
    }
    vms.assertDisksReachable(vm, host);
    Ref<Host> from = r.get(Vm.RESIDENT_ON);
    disks.attachForMigration(vm, host);
    boolean handedOver = false;
    try {
      domains.migrate(vm, host, () -> disks.handOver(vm, from, host));
      handedOver = true;
    } finally {
      if (!handedOver) {
        disks.abandonMigration(vm, host);
      }
    }
    db.set(vm, Vm.RESIDENT_ON, host);
    records.refreshMetrics(vm);
  }

  /**
   * host.migrate_receive: where a VM migrated to {@code host} goes, in xapi's keys (the host, a
   * session on it, its XenAPI and services URLs), for VM.migrate_send and VM.assert_can_migrate.
   */
  public Map<String, String> migrateReceive(
      String session, Ref<Host> host, Ref<org.xsm.server.model.Network> network)
      throws XenApiException {
    db.read(Host.CLASS, host);
    db.read(org.xsm.server.model.Network.CLASS, network);
    String base = "http://" + db.get(host, Host.ADDRESS) + "/";
    Map<String, String> out = new java.util.LinkedHashMap<>();
    out.put("host", host.value());
    out.put("session_id", session);
    out.put("master", base);
    out.put("xenops", base + "services/xenops");
    out.put("SM", base + "services/SM");
    return out;
  }

  /**
   * VM.assert_can_migrate and VM.migrate_send with a destination from host.migrate_receive: within
   * this pool the disks must stay on their SRs (xsm moves no disk between SRs while a VM uses it),
   * and a copy is refused as xapi refuses it within a pool.
   */
  public Ref<Vm> migrateSend(
      Ref<Vm> vm, Map<String, String> dest, boolean copy, Map<String, String> vdiMap, boolean go)
      throws XenApiException {
    Ref<Host> host = Ref.of(dest.getOrDefault("host", Ref.nullRef().value()));
    assertThisHost(host);
    operations.assertValid(vm, Op.MIGRATE_SEND);
    if (copy) {
      throw new XenApiException(
          XenApiError.OPERATION_NOT_ALLOWED,
          "Copy mode is disallowed on intra pool storage migration, try efficient alternatives,"
              + " for example, VM.copy/clone.");
    }
    Map<Ref<Vdi>, Ref<Sr>> moves = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, String> e : vdiMap.entrySet()) {
      Ref<Vdi> vdi = Ref.of(e.getKey());
      Ref<Sr> sr = Ref.of(e.getValue());
      db.read(Vdi.CLASS, vdi);
      if (!db.exists(Sr.CLASS, sr)) {
        throw new XenApiException(XenApiError.HANDLE_INVALID, "SR", sr.value());
      }
      if (!db.get(vdi, Vdi.SR).equals(sr)) {
        moves.put(vdi, sr);
      }
    }
    if (go) {
      // Storage migration within this host: each mapped disk moves with its snapshots, live if
      // the VM runs (the guest writes on through the move).
      for (Map.Entry<Ref<Vdi>, Ref<Sr>> m : moves.entrySet()) {
        migration.move(m.getKey(), m.getValue(), f -> {});
      }
      records.refreshMetrics(vm);
    }
    return vm;
  }
}
