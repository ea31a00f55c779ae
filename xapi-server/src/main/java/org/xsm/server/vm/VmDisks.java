package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.Pbd;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.VbdMode;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.nbd.NbdService;
import org.xsm.server.sr.HostStorage;
import org.xsm.server.sr.SrService;

/**
 * Where a VM's disks are attached: on the host its domain runs on. On this host, activated through
 * the SR's plugin and exported by the NBD server (and on the local socket, where a QEMU domain
 * reads them); on another host of the pool, by that host's agent ({@link HostStorage#attachVdi}),
 * which this host, the SR master, then suspends around its changes of their chains. A live
 * migration attaches the disks on the destination before the stream, detaches them on the source
 * once its domain is gone and reopens them on the destination before the domain runs there, so the
 * destination reads what the source wrote last ({@link #handOver}).
 */
@ApplicationScoped
public class VmDisks {
  private static final Logger LOG = Logger.getLogger(VmDisks.class);

  @Inject Database db;
  @Inject SrService srs;
  @Inject NbdService nbd;
  @Inject VmDomains domains;
  @Inject Instance<HostStorage> hostStorage;

  /** The VBDs a start plugs: those with media (disks, and CDs with their ISO). */
  List<Ref<Vbd>> pluggable(Ref<Vm> vm) throws XenApiException {
    List<Ref<Vbd>> out = new ArrayList<>();
    for (Ref<Vbd> vbd : db.get(vm, Vm.VBDS)) {
      Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
      if (b != null && Vbd.hasMedia(b)) {
        out.add(vbd);
      }
    }
    return out;
  }

  /**
   * A VM's disks can be reached on a host only where their SR is plugged: on another host of the
   * pool, a disk whose SR has no plugged PBD there gets xapi's VM_REQUIRES_SR [vm, sr].
   */
  void assertReachable(Ref<Vm> vm, Ref<Host> host) throws XenApiException {
    if (!domains.isOtherHost(host)) {
      return;
    }
    for (Ref<Vbd> vbd : pluggable(vm)) {
      Ref<Vdi> vdi = db.get(vbd, Vbd.VDI);
      if (db.exists(Vdi.CLASS, vdi) && !pluggedOn(db.get(vdi, Vdi.SR), host)) {
        throw new XenApiException(
            XenApiError.VM_REQUIRES_SR, vm.value(), db.get(vdi, Vdi.SR).value());
      }
    }
  }

  private boolean pluggedOn(Ref<org.xsm.server.model.Sr> sr, Ref<Host> host)
      throws XenApiException {
    for (Ref<Pbd> pbd : db.get(sr, org.xsm.server.model.Sr.PBDS)) {
      if (db.get(pbd, Pbd.HOST).equals(host) && db.get(pbd, Pbd.CURRENTLY_ATTACHED)) {
        return true;
      }
    }
    return false;
  }

  /** Attaches every disk of the VM on {@code host}; on failure detaches those already attached. */
  void attachAll(Ref<Vm> vm, Ref<Host> host) throws XenApiException {
    List<Ref<Vbd>> done = new ArrayList<>();
    try {
      for (Ref<Vbd> vbd : pluggable(vm)) {
        plug(vbd, host);
        done.add(vbd);
      }
    } catch (XenApiException e) {
      for (Ref<Vbd> vbd : done) {
        unplug(vbd, host);
      }
      throw e;
    }
  }

  /** Detaches every attached disk of the VM from the host it runs on. */
  void detachAll(Ref<Vm> vm) throws XenApiException {
    Ref<Host> on = db.get(vm, Vm.RESIDENT_ON);
    for (Ref<Vbd> vbd : pluggable(vm)) {
      unplug(vbd, on);
    }
  }

  /** Attaches a VBD's disk on {@code host}: it is then currently attached. */
  void plug(Ref<Vbd> vbd, Ref<Host> host) throws XenApiException {
    Row<Vbd> b = db.read(Vbd.CLASS, vbd);
    if (db.exists(Vdi.CLASS, b.get(Vbd.VDI))) {
      activate(b, host);
    }
    db.set(vbd, Vbd.CURRENTLY_ATTACHED, true);
  }

  /** After a restart: the disks of a domain of this host that survived it, activated again. */
  void replug(Ref<Vm> vm) throws XenApiException {
    for (Ref<Vbd> vbd : pluggable(vm)) {
      if (db.get(vbd, Vbd.CURRENTLY_ATTACHED)) {
        plug(vbd, Ref.nullRef());
      }
    }
  }

  /** Detaches a VBD's disk on {@code host} if attached: it is then not currently attached. */
  void unplug(Ref<Vbd> vbd, Ref<Host> host) throws XenApiException {
    Row<Vbd> b = db.read(Vbd.CLASS, vbd);
    if (db.exists(Vdi.CLASS, b.get(Vbd.VDI)) && b.get(Vbd.CURRENTLY_ATTACHED)) {
      deactivate(b.get(Vbd.VDI), host);
    }
    db.set(vbd, Vbd.CURRENTLY_ATTACHED, false);
  }

  private void activate(Row<Vbd> b, Ref<Host> host) throws XenApiException {
    Ref<Vdi> vdi = b.get(Vbd.VDI);
    boolean rw = b.get(Vbd.MODE) == VbdMode.RW;
    if (domains.isOtherHost(host)) {
      hostStorage.get().attachVdi(host, vdi, rw);
      return;
    }
    org.xsm.api.VdiDevice device = srs.activate(vdi, rw);
    nbd.exportVdi(vdi.value(), device, !rw);
    if (!db.get(b.get(Vbd.VM), Vm.IS_CONTROL_DOMAIN)
        && domains.domains().kind() != org.xsm.server.domain.Domains.Kind.SIMULATOR) {
      nbd.exportLocal(vdi.value(), device, !rw);
    }
  }

  private void deactivate(Ref<Vdi> vdi, Ref<Host> host) throws XenApiException {
    if (domains.isOtherHost(host)) {
      hostStorage.get().detachVdi(host, vdi);
      return;
    }
    nbd.unexportVdi(vdi.value()); // its connections close before the device goes
    srs.deactivate(vdi);
  }

  /** The attached disks of a running VM (what a migration moves). */
  private List<Row<Vbd>> attached(Ref<Vm> vm) throws XenApiException {
    List<Row<Vbd>> out = new ArrayList<>();
    for (Ref<Vbd> vbd : pluggable(vm)) {
      Row<Vbd> b = db.read(Vbd.CLASS, vbd);
      if (b.get(Vbd.CURRENTLY_ATTACHED) && db.exists(Vdi.CLASS, b.get(Vbd.VDI))) {
        out.add(b);
      }
    }
    return out;
  }

  /**
   * A migration's first step: the running VM's disks attached on the destination as well (its
   * domain opens them, and does no I/O until it runs). On failure none stays attached there.
   */
  void attachForMigration(Ref<Vm> vm, Ref<Host> to) throws XenApiException {
    List<Row<Vbd>> done = new ArrayList<>();
    try {
      for (Row<Vbd> b : attached(vm)) {
        activate(b, to);
        done.add(b);
      }
    } catch (XenApiException e) {
      for (Row<Vbd> b : done) {
        try {
          deactivate(b.get(Vbd.VDI), to);
        } catch (XenApiException d) {
          e.addSuppressed(d);
        }
      }
      throw e;
    }
  }

  /**
   * The source's domain is gone (its last writes flushed): its disks are detached there, and opened
   * again on the destination, whose devices were opened before those writes.
   */
  void handOver(Ref<Vm> vm, Ref<Host> from, Ref<Host> to) throws XenApiException {
    List<Row<Vbd>> disks = attached(vm);
    for (Row<Vbd> b : disks) {
      deactivate(b.get(Vbd.VDI), from);
    }
    for (Row<Vbd> b : disks) {
      Ref<Vdi> vdi = b.get(Vbd.VDI);
      if (domains.isOtherHost(to)) {
        hostStorage.get().reopenVdi(to, vdi);
      } else {
        // Activated here already: the plugin answers with the device it has.
        org.xsm.api.Sr plugin = srs.plugin(db.get(vdi, Vdi.SR));
        try (org.xsm.api.VdiDevice.Suspension s =
            plugin.activateVdi(db.get(vdi, Vdi.LOCATION)).suspend()) {
          // closed and opened again
        } catch (org.xsm.api.SmException e) {
          throw org.xsm.server.sr.SmErrors.of(e, vdi.value());
        }
      }
    }
  }

  /**
   * This host hands the master's role over: the disks of the VMs running here are let go (records
   * untouched), so that its SRs can be detached; the new master attaches them again through this
   * host's agent.
   */
  public void releaseHere(Ref<Host> self) throws XenApiException {
    for (Ref<Vm> vm : db.get(self, Host.RESIDENT_VMS)) {
      try {
        for (Row<Vbd> b : attached(vm)) {
          try {
            deactivate(b.get(Vbd.VDI), self);
          } catch (XenApiException e) {
            LOG.warnf(
                "VM %s: disk %s not let go: %s",
                vm, b.get(Vbd.VDI), String.join(" ", e.errorDescription()));
          }
        }
      } catch (XenApiException e) {
        LOG.warnf("VM %s gone while its disks were let go: %s", vm, e.getMessage());
      }
    }
  }

  /** A migration failed before the hand-over: the destination lets its disks go again. */
  void abandonMigration(Ref<Vm> vm, Ref<Host> to) {
    try {
      for (Row<Vbd> b : attached(vm)) {
        try {
          deactivate(b.get(Vbd.VDI), to);
        } catch (XenApiException e) {
          LOG.warnf(
              "VM %s: disk %s not detached on the destination of a failed migration: %s",
              vm, b.get(Vbd.VDI), String.join(" ", e.errorDescription()));
        }
      }
    } catch (XenApiException e) {
      LOG.warnf("VM %s: its disks not listed after a failed migration: %s", vm, e.getMessage());
    }
  }
}
