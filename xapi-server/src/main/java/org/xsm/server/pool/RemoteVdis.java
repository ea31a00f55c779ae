package org.xsm.server.pool;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;
import org.xsm.api.RemoteDevice;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.HostMetrics;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.VbdMode;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.SrService;

/**
 * The master's side of VDIs active on other hosts of the pool: the host's agent attaches them
 * ({@link AgentVdis}) and the master's own plugin of the SR knows them ({@code Sr.activeElsewhere})
 * with a {@link RemoteDevice} that suspends and resumes them through the agent. The plugin learns
 * of a VDI before the agent activates it and forgets it after the agent deactivated it, so none of
 * its changes of the chain can fall between the two.
 */
@ApplicationScoped
public class RemoteVdis {
  private static final Logger LOG = Logger.getLogger(RemoteVdis.class);

  @Inject Database db;
  @Inject PoolPeers peers;
  @Inject SrService srs;

  /** The VDIs the agents attached for this master, by reference, with their host. */
  private final Map<String, Ref<Host>> known = new ConcurrentHashMap<>();

  /** Adoption failures already logged, by VDI (logged again when the reason changes). */
  private final Map<String, String> lastFailure = new ConcurrentHashMap<>();

  void attach(Ref<Host> host, Ref<Vdi> vdi, boolean writable) throws XenApiException {
    Row<Vdi> v = db.read(Vdi.CLASS, vdi);
    String address = db.get(host, Host.ADDRESS);
    org.xsm.api.Sr plugin = srs.plugin(v.get(Vdi.SR));
    String location = v.get(Vdi.LOCATION);
    plugin.activeElsewhere(location, new AgentDevice(peers, address, vdi.value(), v.get(Vdi.UUID)));
    try {
      peers.call(
          address,
          AgentVdis.ATTACH,
          db.get(v.get(Vdi.SR), Sr.UUID),
          location,
          vdi.value(),
          v.get(Vdi.UUID),
          writable);
    } catch (XenApiException e) {
      plugin.inactiveElsewhere(location);
      throw e;
    }
    known.put(vdi.value(), host);
  }

  /**
   * The disks of the VMs running on {@code host} that this master has not attached there itself (it
   * took over from another master, or the host's SRs were plugged again): attached through the
   * agent, which keeps any it has, and known to this master's plugins. Run by the liveness loop
   * once per live host after a take-over and after a plug of the host's SRs; false if something is
   * left to try again (an SR not plugged there yet, a VM in the middle of an operation).
   */
  boolean adopt(Ref<Host> host) throws XenApiException {
    boolean complete = true;
    for (Ref<Vm> vm : db.get(host, Host.RESIDENT_VMS)) {
      Row<Vm> r = db.readOrNull(Vm.CLASS, vm);
      if (r == null
          || (r.get(Vm.POWER_STATE) != PowerState.RUNNING
              && r.get(Vm.POWER_STATE) != PowerState.PAUSED)) {
        continue;
      }
      if (!r.get(Vm.CURRENT_OPERATIONS).isEmpty()) {
        complete = false; // its operation attaches or detaches its disks itself; seen next time
        continue;
      }
      for (Ref<Vbd> vbd : r.get(Vm.VBDS)) {
        Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
        if (b == null
            || !b.get(Vbd.CURRENTLY_ATTACHED)
            || !db.exists(Vdi.CLASS, b.get(Vbd.VDI))
            || host.equals(known.get(b.get(Vbd.VDI).value()))) {
          continue;
        }
        String vdi = b.get(Vbd.VDI).value();
        try {
          attach(host, b.get(Vbd.VDI), b.get(Vbd.MODE) == VbdMode.RW);
          lastFailure.remove(vdi);
          LOG.infof("VDI %s of VM %s adopted on host %s", vdi, r.get(Vm.UUID), host);
        } catch (XenApiException e) {
          complete = false;
          String why = String.join(" ", e.errorDescription());
          if (!why.equals(lastFailure.put(vdi, why))) {
            LOG.warnf("VDI %s of VM %s not attached on its host yet: %s", vdi, r.get(Vm.UUID), why);
          }
        }
      }
    }
    return complete;
  }

  /** This host stops being the master: what it knew goes with the records. */
  void clear() {
    known.clear();
    lastFailure.clear();
  }

  void detach(Ref<Host> host, Ref<Vdi> vdi) throws XenApiException {
    Row<Vdi> v = db.readOrNull(Vdi.CLASS, vdi);
    if (live(host)) {
      peers.call(db.get(host, Host.ADDRESS), AgentVdis.DETACH, vdi.value());
    }
    if (v != null) {
      forget(v);
    }
    known.remove(vdi.value());
  }

  /** The plugin forgets a VDI active on a host that is gone (no agent to ask). */
  void forget(Ref<Vdi> vdi) {
    Row<Vdi> v = db.readOrNull(Vdi.CLASS, vdi);
    if (v != null) {
      forget(v);
    }
  }

  private void forget(Row<Vdi> v) {
    known.remove(v.ref().value());
    try {
      srs.plugin(v.get(Vdi.SR)).inactiveElsewhere(v.get(Vdi.LOCATION));
    } catch (XenApiException e) {
      // Not plugged here: the plugin that knew it is gone with its PBD.
      LOG.debugf("VDI %s: SR not plugged here (%s)", v.get(Vdi.UUID), e.getMessage());
    }
  }

  void reopen(Ref<Host> host, Ref<Vdi> vdi) throws XenApiException {
    peers.call(db.get(host, Host.ADDRESS), AgentVdis.REOPEN, vdi.value());
  }

  private boolean live(Ref<Host> host) throws XenApiException {
    Ref<HostMetrics> m = db.get(host, Host.METRICS);
    return db.exists(HostMetrics.CLASS, m) && db.get(m, HostMetrics.LIVE);
  }

  /** A VDI's device on another host, reached through its agent. */
  private record AgentDevice(PoolPeers peers, String address, String vdiRef, String uuid)
      implements RemoteDevice {
    @Override
    public void suspend() throws SmException {
      call(AgentVdis.SUSPEND);
    }

    @Override
    public void resume() throws SmException {
      call(AgentVdis.RESUME);
    }

    private void call(String message) throws SmException {
      try {
        peers.call(address, message, vdiRef);
      } catch (XenApiException e) {
        throw new SmException(
            SmError.EIO,
            "host "
                + address
                + " ("
                + message
                + " of VDI "
                + uuid
                + "): "
                + String.join(" ", e.errorDescription()));
      }
    }
  }
}
