package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.xsm.server.db.Database;
import org.xsm.server.domain.Domains;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vm;
import org.xsm.server.model.VmGuestMetrics;
import org.xsm.server.model.VmMetrics;
import org.xsm.server.model.XenApiException;

/**
 * Every VM record (a VM, a snapshot, a template, the control domain) is made and dropped here, with
 * the {@code VM_metrics} record xapi gives each one: {@code VM.metrics} is never a dangling
 * reference, and a destroyed VM takes its metrics and guest metrics with it.
 */
@ApplicationScoped
public class VmRecords {
  @Inject Database db;
  @Inject GuestAgent guests;
  @Inject VmOperations operations;
  @Inject VmDomains domains;

  /** A new VM record from {@code fields}, with its metrics. */
  public Ref<Vm> create(Values<Vm> fields) throws XenApiException {
    Ref<VmMetrics> metrics = db.create(VmMetrics.CLASS, Values.of(VmMetrics.CLASS));
    fields.with(Vm.METRICS, metrics).with(Vm.GUEST_METRICS, Ref.nullRef());
    Ref<Vm> vm = db.create(Vm.CLASS, fields);
    refreshMetrics(vm);
    return vm;
  }

  /** Drops a VM record with its metrics (its devices are the caller's). */
  public void destroy(Ref<Vm> vm) throws XenApiException {
    Row<Vm> r = db.readOrNull(Vm.CLASS, vm);
    if (r == null) {
      return;
    }
    Ref<VmMetrics> m = r.get(Vm.METRICS);
    Ref<VmGuestMetrics> g = r.get(Vm.GUEST_METRICS);
    db.destroy(Vm.CLASS, vm);
    if (db.exists(VmMetrics.CLASS, m)) {
      db.destroy(VmMetrics.CLASS, m);
    }
    if (db.exists(VmGuestMetrics.CLASS, g)) {
      db.destroy(VmGuestMetrics.CLASS, g);
    }
  }

  /**
   * Sets the VM's metrics from its record (what a running domain reports: memory, vCPUs, state,
   * start time), its guest metrics and console, and its allowed operations; called after every
   * power-state change and whenever a VM record is made.
   */
  public void refreshMetrics(Ref<Vm> vm) throws XenApiException {
    Row<Vm> r = db.read(Vm.CLASS, vm);
    Ref<VmMetrics> m = r.get(Vm.METRICS);
    if (!db.exists(VmMetrics.CLASS, m)) {
      m = db.create(VmMetrics.CLASS, Values.of(VmMetrics.CLASS));
      db.set(vm, Vm.METRICS, m);
    }
    PowerState s = r.get(Vm.POWER_STATE);
    boolean up = s == PowerState.RUNNING || s == PowerState.PAUSED;
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    // A running domain's own figures where it reports them (QEMU), else the record's.
    var reported =
        up
            ? domains.domains().info(r.get(Vm.UUID))
            : java.util.Optional.<Domains.DomainInfo>empty();
    long memory =
        reported.map(Domains.DomainInfo::memoryBytes).orElse(r.get(Vm.MEMORY_DYNAMIC_MAX));
    long vcpus = reported.map(Domains.DomainInfo::vcpus).orElse(r.get(Vm.VCPUS_AT_STARTUP));
    Values<VmMetrics> v =
        Values.of(VmMetrics.CLASS)
            .with(VmMetrics.MEMORY_ACTUAL, up ? memory : 0L)
            .with(VmMetrics.VCPUS_NUMBER, up ? vcpus : 0L)
            .with(
                VmMetrics.STATE,
                up ? List.of(s == PowerState.PAUSED ? "paused" : "running") : List.of())
            .with(VmMetrics.HVM, r.get(Vm.DOMAIN_TYPE) == org.xsm.server.model.DomainType.HVM)
            .with(
                VmMetrics.CURRENT_DOMAIN_TYPE,
                up ? r.get(Vm.DOMAIN_TYPE) : org.xsm.server.model.DomainType.UNSPECIFIED)
            .with(VmMetrics.LAST_UPDATED, now);
    Row<VmMetrics> old = db.read(VmMetrics.CLASS, m);
    if (up && old.get(VmMetrics.START_TIME).equals(Instant.EPOCH)) {
      v.with(VmMetrics.START_TIME, now);
    } else if (!up) {
      v.with(VmMetrics.START_TIME, Instant.EPOCH);
    }
    if (old.get(VmMetrics.INSTALL_TIME).equals(Instant.EPOCH)) {
      v.with(VmMetrics.INSTALL_TIME, now);
    }
    db.update(VmMetrics.CLASS, m, v);
    guests.refresh(vm);
    operations.update(vm);
  }

  /** At start: records from before metrics existed get theirs. */
  public void ensureMetrics() throws XenApiException {
    for (Ref<Vm> vm : db.fullScan(Vm.CLASS, r -> !db.exists(VmMetrics.CLASS, r.get(Vm.METRICS)))) {
      refreshMetrics(vm);
    }
  }
}
