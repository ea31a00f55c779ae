package org.xsm.server.pool;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;
import org.xsm.api.SmException;
import org.xsm.api.SrConfig;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Host;
import org.xsm.server.model.HostMetrics;
import org.xsm.server.model.Pbd;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.HostStorage;
import org.xsm.server.sr.SrService;

/**
 * Shared SRs across the pool. On the master: a PBD of another host is plugged and unplugged by that
 * host's agent ({@code host.xsm_sr_plug}/{@code host.xsm_sr_unplug}), and the PBDs of shared SRs
 * that a live host does not have attached (it joined, or restarted and reports fewer) are plugged
 * again by the liveness loop. On any host: the agent's side, SRs attached with this host's own
 * driver, kept by UUID (a member has no records), reported with each heartbeat.
 */
@ApplicationScoped
public class PoolStorage implements HostStorage {
  private static final Logger LOG = Logger.getLogger(PoolStorage.class);
  static final String PLUG = "host.xsm_sr_plug";
  static final String UNPLUG = "host.xsm_sr_unplug";

  @Inject Database db;
  @Inject HostService hosts;
  @Inject PoolPeers peers;
  @Inject SrService srs;
  @Inject RemoteVdis remoteVdis;

  /** The SRs this host's agent attached, by UUID. */
  private final Map<String, org.xsm.api.Sr> attached = new ConcurrentHashMap<>();

  /** Plug failures already logged, by PBD (logged again when the reason changes). */
  private final Map<Ref<Pbd>, String> lastFailure = new ConcurrentHashMap<>();

  @Override
  public boolean isOtherHost(Ref<Host> host) {
    return !host.isNull() && !host.equals(hosts.host()) && db.exists(Host.CLASS, host);
  }

  @Override
  public void plug(
      Ref<Host> host,
      String srUuid,
      String type,
      Map<String, String> deviceConfig,
      Map<String, String> otherConfig)
      throws XenApiException {
    peers.call(db.get(host, Host.ADDRESS), PLUG, srUuid, type, deviceConfig, otherConfig);
  }

  @Override
  public void unplug(Ref<Host> host, String srUuid) throws XenApiException {
    if (!live(host)) {
      return; // a dead host holds nothing any more
    }
    peers.call(db.get(host, Host.ADDRESS), UNPLUG, srUuid);
  }

  @Override
  public void attachVdi(Ref<Host> host, Ref<Vdi> vdi, boolean writable) throws XenApiException {
    remoteVdis.attach(host, vdi, writable);
  }

  @Override
  public void detachVdi(Ref<Host> host, Ref<Vdi> vdi) throws XenApiException {
    remoteVdis.detach(host, vdi);
  }

  @Override
  public void forgetVdi(Ref<Vdi> vdi) {
    remoteVdis.forget(vdi);
  }

  @Override
  public void reopenVdi(Ref<Host> host, Ref<Vdi> vdi) throws XenApiException {
    remoteVdis.reopen(host, vdi);
  }

  private boolean live(Ref<Host> host) throws XenApiException {
    Ref<HostMetrics> m = db.get(host, Host.METRICS);
    return db.exists(HostMetrics.CLASS, m) && db.get(m, HostMetrics.LIVE);
  }

  // ---- the agent's side ----

  void agentPlug(
      String uuid, String type, Map<String, String> deviceConfig, Map<String, String> other)
      throws XenApiException {
    if (attached.containsKey(uuid)) {
      return;
    }
    // The collector runs on the master only (as xapi's GC on the SR master): a member's attachment
    // never coalesces or deletes what the master may be using.
    Map<String, String> noGc = new java.util.HashMap<>(other);
    noGc.put("gc", "false");
    try {
      attached.put(
          uuid, srs.registry().driver(type).attach(new SrConfig(uuid, deviceConfig, noGc)));
    } catch (SmException e) {
      throw org.xsm.server.sr.SmErrors.of(e, uuid);
    }
    LOG.infof("SR %s (%s) attached for the pool", uuid, type);
  }

  /** An SR this host's agent attached, for the VDIs of its domains. */
  org.xsm.api.Sr attachedSr(String uuid) throws XenApiException {
    org.xsm.api.Sr s = attached.get(uuid);
    if (s == null) {
      throw new XenApiException(
          org.xsm.server.model.XenApiError.INTERNAL_ERROR,
          "SR " + uuid + " is not attached on this host for the pool");
    }
    return s;
  }

  void agentUnplug(String uuid) throws XenApiException {
    org.xsm.api.Sr s = attached.remove(uuid);
    if (s != null) {
      try {
        s.detach();
      } catch (SmException e) {
        throw org.xsm.server.sr.SmErrors.of(e, uuid);
      }
    }
  }

  /** Detaches every SR the agent attached (this host leaves the pool or becomes its master). */
  void detachAll() {
    for (String uuid : attachedUuids()) {
      try {
        agentUnplug(uuid);
      } catch (XenApiException e) {
        LOG.warnf("SR %s not detached: %s", uuid, String.join(" ", e.errorDescription()));
      }
    }
  }

  /** The SRs attached here for the pool (each heartbeat reports them). */
  Set<String> attachedUuids() {
    return new HashSet<>(attached.keySet());
  }

  // ---- the master's side ----

  /** A host reported what it has attached: PBDs it lost (a restart) are marked unplugged. */
  void reported(Ref<Host> host, Set<String> uuids) throws XenApiException {
    for (Ref<Pbd> pbd : db.where(Pbd.HOST, host)) {
      if (db.get(pbd, Pbd.CURRENTLY_ATTACHED)
          && !uuids.contains(db.get(db.get(pbd, Pbd.SR), Sr.UUID))) {
        db.set(pbd, Pbd.CURRENTLY_ATTACHED, false);
      }
    }
  }

  /**
   * Plugs the unplugged PBDs of shared SRs on the live other hosts (the liveness loop).
   *
   * @return the hosts on which a PBD was plugged
   */
  Set<Ref<Host>> plugShared(List<Ref<Host>> liveOthers) {
    Set<Ref<Host>> plugged = new HashSet<>();
    for (Ref<Host> h : liveOthers) {
      for (Ref<Pbd> pbd : db.where(Pbd.HOST, h)) {
        try {
          if (!db.get(pbd, Pbd.CURRENTLY_ATTACHED) && db.get(db.get(pbd, Pbd.SR), Sr.SHARED)) {
            srs.plug(pbd);
            lastFailure.remove(pbd);
            plugged.add(h);
          }
        } catch (XenApiException e) {
          String why = String.join(" ", e.errorDescription());
          if (!why.equals(lastFailure.put(pbd, why))) {
            LOG.warnf("PBD %s of a shared SR not plugged on its host yet: %s", pbd, why);
          }
        }
      }
    }
    return plugged;
  }
}
