package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.xsm.api.VdiDevice;
import org.xsm.server.db.Database;
import org.xsm.server.domain.DomainException;
import org.xsm.server.domain.DomainListener;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.Domains;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.VbdType;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.nbd.NbdService;
import org.xsm.server.vdi.VdiService;

/**
 * Between VM records and this host's {@link Domains}: builds a domain's spec from the VM (XenAPI's
 * boot fields, vCPUs, memory, the disks' local NBD exports, VIFs) and turns domain failures into
 * xapi's errors ({@code VM_SHUTDOWN_TIMEOUT [vm, seconds]}; anything else {@code INTERNAL_ERROR}
 * with the reason).
 */
@ApplicationScoped
public class VmDomains {
  private static final Logger LOG = Logger.getLogger(VmDomains.class);

  @Inject Database db;
  @Inject Domains domains;
  @Inject NbdService nbd;
  @Inject org.xsm.server.sr.SrService srs;
  @Inject VdiService vdis;
  @Inject org.xsm.server.host.HostService hosts;

  /** xapi's domain_shutdown_total_timeout, the wait of a clean shutdown. */
  @ConfigProperty(name = "xsm.domain-shutdown-timeout-s", defaultValue = "1200")
  long shutdownTimeoutSeconds;

  /** The pool's other hosts' domains (unsatisfied without the pool feature: a lone host). */
  @Inject jakarta.enterprise.inject.Instance<org.xsm.server.domain.HostDomains> hostDomains;

  public Domains domains() {
    return domains;
  }

  /** Whether {@code host} is another host of the pool (whose agent runs its domains). */
  boolean isOtherHost(Ref<org.xsm.server.model.Host> host) {
    return !host.isNull()
        && !host.equals(hosts.host())
        && db.exists(org.xsm.server.model.Host.CLASS, host)
        && hostDomains.isResolvable();
  }

  /** The domains of {@code host}: this host's own, or another host's through its agent. */
  private Domains on(Ref<org.xsm.server.model.Host> host) throws XenApiException {
    if (!isOtherHost(host)) {
      return domains;
    }
    return hostDomains.get().on(db.get(host, org.xsm.server.model.Host.ADDRESS));
  }

  /** The domains of the host the VM's domain is on (its resident host). */
  private Domains of(Ref<Vm> vm) throws XenApiException {
    return on(db.get(vm, Vm.RESIDENT_ON));
  }

  /** The spec of the VM's domain on this host, from its record and its exported disks. */
  DomainSpec spec(Ref<Vm> vm) throws XenApiException {
    return spec(vm, hosts.host());
  }

  /**
   * The spec of the VM's domain on {@code host}: on another host its disks name only their VDI's
   * UUID (the export's name there), which that host's agent points at its own socket.
   */
  DomainSpec spec(Ref<Vm> vm, Ref<org.xsm.server.model.Host> host) throws XenApiException {
    boolean remote = isOtherHost(host);
    Row<Vm> r = db.read(Vm.CLASS, vm);
    DomainSpec.Boot boot =
        r.get(Vm.PV_KERNEL).isEmpty()
            ? new DomainSpec.FirmwareBoot(bootOrder(r))
            : new DomainSpec.KernelBoot(
                r.get(Vm.PV_KERNEL), r.get(Vm.PV_RAMDISK), r.get(Vm.PV_ARGS));
    List<DomainSpec.Disk> disks = new ArrayList<>();
    List<Row<Vbd>> vbds = new ArrayList<>();
    for (Ref<Vbd> vbd : r.get(Vm.VBDS)) {
      Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
      if (b != null && b.get(Vbd.CURRENTLY_ATTACHED) && db.exists(Vdi.CLASS, b.get(Vbd.VDI))) {
        vbds.add(b);
      }
    }
    vbds.sort(Comparator.comparing((Row<Vbd> b) -> userdeviceOrder(b.get(Vbd.USERDEVICE))));
    for (Row<Vbd> b : vbds) {
      String vdi = b.get(Vbd.VDI).value();
      String vdiUuid = db.get(b.get(Vbd.VDI), Vdi.UUID);
      Optional<NbdService.LocalExport> e =
          remote ? Optional.of(new NbdService.LocalExport(null, vdiUuid)) : nbd.localExport(vdi);
      if (e.isEmpty()) {
        continue; // not exported for domains (the NBD server could not start): no disk
      }
      disks.add(
          new DomainSpec.Disk(
              b.get(Vbd.USERDEVICE),
              b.get(Vbd.TYPE) == VbdType.CD ? DomainSpec.DiskKind.CDROM : DomainSpec.DiskKind.DISK,
              e.get().socket(),
              e.get().name(),
              b.get(Vbd.MODE) != org.xsm.server.model.VbdMode.RW,
              b.get(Vbd.BOOTABLE),
              vdiUuid));
    }
    List<DomainSpec.Nic> nics = new ArrayList<>();
    for (Ref<Vif> vif : r.get(Vm.VIFS)) {
      Row<Vif> f = db.readOrNull(Vif.CLASS, vif);
      if (f != null) {
        nics.add(new DomainSpec.Nic(f.get(Vif.DEVICE), f.get(Vif.MAC)));
      }
    }
    nics.sort(Comparator.comparing(n -> userdeviceOrder(n.device())));
    return new DomainSpec(
        r.get(Vm.UUID),
        r.get(Vm.NAME_LABEL),
        Math.max(1, r.get(Vm.VCPUS_AT_STARTUP)),
        r.get(Vm.MEMORY_STATIC_MAX),
        boot,
        disks,
        nics);
  }

  private static long userdeviceOrder(String d) {
    try {
      return Long.parseLong(d);
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE; // "autodetect" or a name: after the numbered ones
    }
  }

  /**
   * {@code HVM_boot_params:order} in QEMU's letters (c disk, d CD, n network), as xapi passes it.
   */
  private static String bootOrder(Row<Vm> r) {
    String order = r.get(Vm.HVM_BOOT_PARAMS).getOrDefault("order", "cd");
    return order.replaceAll("[^cdn]", "");
  }

  void create(
      Ref<Vm> vm, boolean paused, Optional<VdiDevice> memory, Ref<org.xsm.server.model.Host> host)
      throws XenApiException {
    try {
      on(host).create(spec(vm, host), paused, memory);
    } catch (DomainException e) {
      throw failure(vm, e);
    }
  }

  void pause(Ref<Vm> vm) throws XenApiException {
    try {
      of(vm).pause(db.get(vm, Vm.UUID));
    } catch (DomainException e) {
      throw failure(vm, e);
    }
  }

  void unpause(Ref<Vm> vm) throws XenApiException {
    try {
      of(vm).unpause(db.get(vm, Vm.UUID));
    } catch (DomainException e) {
      throw failure(vm, e);
    }
  }

  /** Clean ({@code hard} false: ACPI power button, xapi's timeout) or hard end of the domain. */
  void stop(Ref<Vm> vm, boolean hard) throws XenApiException {
    String uuid = db.get(vm, Vm.UUID);
    Domains d = of(vm);
    try {
      if (hard || !d.exists(uuid)) {
        d.destroy(uuid);
      } else {
        d.shutdown(uuid, Duration.ofSeconds(shutdownTimeoutSeconds));
      }
    } catch (DomainException e) {
      throw failure(vm, e);
    }
  }

  /**
   * Live migration of the VM's domain to {@code host}: a domain waiting there, this one streamed to
   * it (aiming at 300 ms of downtime), then run there (paused if it was). On failure the domain
   * runs on where it was and the waiting one is destroyed.
   */
  Domains.MigrationResult migrate(
      Ref<Vm> vm, Ref<org.xsm.server.model.Host> host, HandOver handOver) throws XenApiException {
    Domains from = of(vm);
    Domains to = on(host);
    String uuid = db.get(vm, Vm.UUID);
    boolean paused = db.get(vm, Vm.POWER_STATE) == org.xsm.server.model.PowerState.PAUSED;
    Domains.MigrationResult result;
    try {
      Domains.IncomingMigration in = to.prepareIncoming(spec(vm, host));
      try {
        result = from.migrateOut(uuid, in.endpoint(), Duration.ofMillis(300));
      } catch (DomainException e) {
        try {
          to.destroy(uuid);
        } catch (DomainException d) {
          LOG.warnf(d, "VM %s: the domain waiting for a failed migration was not destroyed", vm);
        }
        throw e;
      }
      handOver.run();
      to.finishIncoming(uuid, paused, Duration.ofSeconds(120));
    } catch (DomainException e) {
      throw failure(vm, e);
    }
    LOG.infof(
        "VM %s migrated: downtime %d ms, %d ms in all, %d bytes",
        uuid, result.downtime().toMillis(), result.total().toMillis(), result.bytesTransferred());
    return result;
  }

  /** What happens between the source's end and the destination's start (the disks' hand-over). */
  @FunctionalInterface
  interface HandOver {
    void run() throws XenApiException;
  }

  long memoryImageBytes(Ref<Vm> vm) throws XenApiException {
    return domains.memoryImageBytes(spec(vm));
  }

  void saveMemory(Ref<Vm> vm, VdiDevice image) throws XenApiException {
    try {
      of(vm).saveMemory(db.get(vm, Vm.UUID), image);
    } catch (DomainException e) {
      throw failure(vm, e);
    }
  }

  /**
   * Writes the memory of the VM's (paused) domain into a new suspend VDI on its suspend SR (or the
   * pool's default), through the VDI's device; on failure no VDI is left.
   */
  Ref<Vdi> saveMemoryToVdi(Ref<Vm> vm) throws XenApiException {
    Ref<Sr> sr = db.get(vm, Vm.SUSPEND_SR);
    if (!db.exists(Sr.CLASS, sr)) {
      sr = hosts.defaultSr();
    }
    Ref<Vdi> vdi =
        vdis.create(
            new VdiService.VdiSpec(
                sr,
                memoryImageBytes(vm),
                "Suspend image of " + db.get(vm, Vm.NAME_LABEL),
                "",
                VdiType.SUSPEND,
                false,
                java.util.Map.of(),
                java.util.Map.of(),
                null));
    try {
      VdiDevice image = srs.activate(vdi, true);
      try {
        saveMemory(vm, image);
      } finally {
        srs.deactivate(vdi);
      }
    } catch (XenApiException e) {
      vdis.destroyQuietly(vdi);
      throw e;
    }
    return vdi;
  }

  void setListener(DomainListener l) {
    domains.setListener(l);
  }

  private XenApiException failure(Ref<Vm> vm, DomainException e) {
    if (e.reason() == DomainException.Reason.SHUTDOWN_TIMEOUT) {
      return new XenApiException(
          XenApiError.VM_SHUTDOWN_TIMEOUT, vm.value(), Double.toString(shutdownTimeoutSeconds));
    }
    LOG.warnf(e, "domain of VM %s failed", vm);
    return new XenApiException(XenApiError.INTERNAL_ERROR, e.getMessage());
  }

  Ref<Vm> byUuid(String uuid) throws XenApiException {
    return db.byUuid(Vm.CLASS, uuid);
  }
}
