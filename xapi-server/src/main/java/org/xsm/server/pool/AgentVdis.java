package org.xsm.server.pool;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.nbd.NbdService;
import org.xsm.server.sr.SmErrors;

/**
 * A host agent's VDIs: the disks of the domains the master runs on this host, attached and
 * activated on the SRs this host plugged for the pool ({@link PoolStorage}) and exported on its
 * local NBD socket, named by their UUID, keyed by the master's VDI reference (a member has no
 * records). The master suspends and resumes them around its changes of their chain ({@code
 * Sr.activeElsewhere}): a suspension runs on a thread of its own, since a device is suspended and
 * resumed on one thread while the two requests come on any; one the master never resumes (it died
 * in between) ends by itself after {@link #SUSPEND_LIMIT_S}, reopening the chain as it is then.
 */
@ApplicationScoped
public class AgentVdis {
  private static final Logger LOG = Logger.getLogger(AgentVdis.class);
  static final String ATTACH = "host.xsm_vdi_attach";
  static final String DETACH = "host.xsm_vdi_detach";
  static final String SUSPEND = "host.xsm_vdi_suspend";
  static final String RESUME = "host.xsm_vdi_resume";
  static final String REOPEN = "host.xsm_vdi_reopen";
  static final List<String> MESSAGES = List.of(ATTACH, DETACH, SUSPEND, RESUME, REOPEN);
  static final long SUSPEND_LIMIT_S = 120;

  @Inject PoolStorage storage;
  @Inject NbdService nbd;

  private record Active(String srUuid, String location, String uuid, VdiDevice device) {}

  private final Map<String, Active> active = new ConcurrentHashMap<>();
  private final Map<String, Suspension> suspended = new ConcurrentHashMap<>();

  /** Attaches, activates and exports the VDI for this host's domains (again: nothing to do). */
  void attach(String srUuid, String location, String vdiRef, String vdiUuid, boolean writable)
      throws XenApiException {
    if (active.containsKey(vdiRef)) {
      return;
    }
    org.xsm.api.Sr sr = storage.attachedSr(srUuid);
    VdiDevice device;
    try {
      sr.attachVdi(location, writable);
      try {
        device = sr.activateVdi(location);
      } catch (SmException e) {
        sr.detachVdi(location);
        throw e;
      }
    } catch (SmException e) {
      throw SmErrors.of(e, vdiRef);
    }
    nbd.exportLocalNamed(vdiRef, vdiUuid, device, !writable);
    active.put(vdiRef, new Active(srUuid, location, vdiUuid, device));
    LOG.infof("VDI %s attached for this host's domains (%s)", vdiUuid, writable ? "RW" : "RO");
  }

  /** Unexports, deactivates and detaches the VDI (not attached: nothing to do). */
  void detach(String vdiRef) throws XenApiException {
    Suspension s = suspended.remove(vdiRef);
    if (s != null) {
      s.end();
    }
    Active a = active.remove(vdiRef);
    if (a == null) {
      return;
    }
    nbd.unexportVdi(vdiRef); // its connections close before the device goes
    try {
      storage.attachedSr(a.srUuid()).detachVdi(a.location());
    } catch (SmException e) {
      throw SmErrors.of(e, vdiRef);
    }
    LOG.infof("VDI %s detached", a.uuid());
  }

  /** Suspends the VDI's device (I/O waits, its files closed) until {@link #resume}. */
  void suspend(String vdiRef) throws XenApiException {
    Active a = active.get(vdiRef);
    if (a == null || suspended.containsKey(vdiRef)) {
      return; // not active here (yet or any more), or suspended already: nothing is open
    }
    Suspension s = new Suspension(a);
    s.begin();
    suspended.put(vdiRef, s);
  }

  /** Reopens the VDI's chain as the storage now has it and lets its I/O go on. */
  void resume(String vdiRef) throws XenApiException {
    Suspension s = suspended.remove(vdiRef);
    if (s != null) {
      s.end();
    }
  }

  /**
   * Reopens the VDI's chain at once (a migration's destination, whose device was opened before the
   * source's last writes).
   */
  void reopen(String vdiRef) throws XenApiException {
    Active a = active.get(vdiRef);
    if (a == null) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "VDI", vdiRef);
    }
    try (VdiDevice.Suspension s = a.device().suspend()) {
      // closed and opened again
    } catch (SmException e) {
      throw SmErrors.of(e, vdiRef);
    }
  }

  /** Detaches every VDI (this host leaves the pool or becomes its master). */
  void detachAll() {
    for (String ref : new ArrayList<>(active.keySet())) {
      try {
        detach(ref);
      } catch (XenApiException e) {
        LOG.warnf("VDI %s not detached: %s", ref, String.join(" ", e.errorDescription()));
      }
    }
  }

  /**
   * A domain's spec from the master, its disks pointed at this host's exports (the master names
   * each by its VDI's UUID).
   */
  DomainSpec localize(DomainSpec spec) throws XenApiException {
    List<DomainSpec.Disk> disks = new ArrayList<>();
    for (DomainSpec.Disk d : spec.disks()) {
      NbdService.LocalExport e =
          nbd.localExportNamed(d.export())
              .orElseThrow(
                  () ->
                      new XenApiException(
                          XenApiError.INTERNAL_ERROR,
                          "VDI " + d.vdiUuid() + " is not attached on this host"));
      disks.add(
          new DomainSpec.Disk(
              d.userdevice(),
              d.kind(),
              e.socket(),
              e.name(),
              d.readOnly(),
              d.bootable(),
              d.vdiUuid()));
    }
    return new DomainSpec(
        spec.vmUuid(),
        spec.name(),
        spec.vcpus(),
        spec.memoryBytes(),
        spec.boot(),
        disks,
        spec.nics());
  }

  /** One suspension: its own thread holds the device from {@link #begin} to {@link #end}. */
  private static final class Suspension {
    private final Active active;
    private final CountDownLatch suspended = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch resumed = new CountDownLatch(1);
    private volatile SmException failure;

    Suspension(Active active) {
      this.active = active;
    }

    void begin() throws XenApiException {
      Thread t = new Thread(this::hold, "xsm-vdi-suspension-" + active.uuid());
      t.setDaemon(true);
      t.start();
      await(suspended);
      if (failure != null) {
        throw SmErrors.of(failure, active.uuid());
      }
    }

    void end() throws XenApiException {
      release.countDown();
      await(resumed);
      if (failure != null) {
        throw SmErrors.of(failure, active.uuid());
      }
    }

    private void hold() {
      VdiDevice.Suspension s;
      try {
        s = active.device().suspend();
      } catch (SmException e) {
        failure = e;
        suspended.countDown();
        resumed.countDown();
        return;
      }
      suspended.countDown();
      try {
        if (!release.await(SUSPEND_LIMIT_S, TimeUnit.SECONDS)) {
          LOG.warnf(
              "VDI %s: the master did not resume it within %d s; resuming it here",
              active.uuid(), SUSPEND_LIMIT_S);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try {
        s.close();
      } catch (SmException e) {
        failure = e;
        LOG.errorf(e, "VDI %s not resumed", active.uuid());
      }
      resumed.countDown();
    }

    private static void await(CountDownLatch l) throws XenApiException {
      try {
        l.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new XenApiException(XenApiError.INTERNAL_ERROR, "interrupted");
      }
    }
  }
}
