package org.xsm.server.pool;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.db.Sql;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Host;
import org.xsm.server.model.HostMetrics;
import org.xsm.server.model.Pool;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * A change of master. {@code pool.emergency_transition_to_master} on a member: it loads the pool's
 * records from the pool's database (every acknowledged call is there: a call's changes are written
 * before its answer), names itself the master, adopts its own domains and plugs its own PBDs, and
 * starts checking the others' heartbeats. {@code pool.designate_new_master} on the master: it stops
 * writing (a call still in flight fails rather than being acknowledged unwritten), has the chosen
 * host take over as above, and becomes a member of it. {@code pool.recover_slaves} and {@code
 * pool.emergency_reset_master} point members at the new master.
 */
@ApplicationScoped
public class PoolFailover {
  private static final Logger LOG = Logger.getLogger(PoolFailover.class);

  @Inject Database db;
  @Inject Sql sql;
  @Inject HostService hosts;
  @Inject PoolState state;
  @Inject PoolPeers peers;
  @Inject Heartbeats heartbeats;
  @Inject PoolService pool;
  @Inject PoolStorage storage;
  @Inject org.xsm.server.sr.SrService srs;
  @Inject AgentVdis agentVdis;
  @Inject org.xsm.server.vm.VmDisks vmDisks;
  @Inject org.xsm.server.boot.Bootstrap bootstrap;

  /** pool.emergency_transition_to_master: this member becomes the master (nothing on a master). */
  public synchronized void becomeMaster() throws XenApiException {
    PoolRole r = state.role();
    if (!r.member()) {
      return;
    }
    if (r.database() == null) {
      throw new XenApiException(
          XenApiError.INTERNAL_ERROR, "this member does not know the pool's database");
    }
    long t0 = System.nanoTime();
    heartbeats.stop();
    agentVdis.detachAll(); // its domains' disks: attached again as the master's own
    storage.detachAll(); // attached again as the master's own PBDs
    sql.use(new Sql.Coordinates(r.database().url(), r.database().user(), r.database().password()));
    db.fence(null);
    db.setPersistent(true);
    db.reload();
    state.become(r.asMaster());
    try {
      bootstrap.runAsMaster(t0);
    } catch (Exception e) {
      LOG.errorf(e, "taking over as the master failed after the records were loaded");
      throw new XenApiException(XenApiError.INTERNAL_ERROR, "taking over as the master: " + e);
    }
    db.beginCall();
    try {
      Ref<Host> self = hosts.host();
      db.set(hosts.pool(), Pool.MASTER, self);
      Ref<HostMetrics> m = db.get(self, Host.METRICS);
      if (db.exists(HostMetrics.CLASS, m)) {
        db.update(HostMetrics.CLASS, m, Values.of(HostMetrics.CLASS).with(HostMetrics.LIVE, true));
      }
    } finally {
      db.endCall();
    }
    heartbeats.startAsMaster();
    LOG.infof(
        "this host is the pool's master now (records loaded and taken over in %d ms)",
        (System.nanoTime() - t0) / 1_000_000);
  }

  /** pool.designate_new_master, on the master. */
  public synchronized void designate(Ref<Host> next) throws XenApiException {
    Ref<Host> self = hosts.host();
    if (next.equals(self)) {
      return;
    }
    String address = db.get(next, Host.ADDRESS);
    if (!db.get(db.get(next, Host.METRICS), HostMetrics.LIVE)) {
      throw new XenApiException(XenApiError.HOST_OFFLINE, next.value());
    }
    List<String> others = new ArrayList<>();
    for (Ref<Host> h : pool.others()) {
      if (!h.equals(next)) {
        others.add(db.get(h, Host.ADDRESS));
      }
    }
    heartbeats.stop();
    db.fence("the master's role is being handed to " + address);
    try {
      peers.call(address, "pool.emergency_transition_to_master");
    } catch (XenApiException e) {
      db.fence(null);
      heartbeats.startAsMaster();
      throw e;
    }
    // Its domains' disks are let go while the records say which (before they are forgotten); the
    // new master attaches them again through this host's agent (RemoteVdis.adopt).
    vmDisks.releaseHere(self);
    state.become(state.role().memberOf(address));
    db.forgetAll();
    db.setPersistent(false);
    db.fence(null);
    sql.useConfigured(); // its own database again (the pool's is the new master's to write)
    srs.detachAll(); // plugged again by the new master, through this host's agent
    heartbeats.startAsMember();
    for (String other : others) {
      try {
        peers.call(other, "pool.emergency_reset_master", address);
      } catch (XenApiException e) {
        LOG.warnf("host %s not told of the new master %s: %s", other, address, e.getMessage());
      }
    }
    LOG.infof("the master's role went to %s; this host is a member now", address);
  }

  /** pool.emergency_reset_master on a member: the master is at {@code address} now. */
  public void resetMaster(String address) {
    PoolRole r = state.role();
    if (r.member() && !address.equals(r.masterAddress())) {
      state.become(r.memberOf(address));
      LOG.infof("told that the master is %s now", address);
    }
  }

  /** pool.recover_slaves: each member is pointed at this master; the hosts that answered. */
  public List<String> recoverSlaves() throws XenApiException {
    String me = db.get(hosts.host(), Host.ADDRESS);
    List<String> recovered = new ArrayList<>();
    for (Ref<Host> h : pool.others()) {
      try {
        peers.call(db.get(h, Host.ADDRESS), "pool.emergency_reset_master", me);
        recovered.add(h.value());
      } catch (XenApiException e) {
        LOG.warnf("host %s not recovered: %s", db.get(h, Host.ADDRESS), e.getMessage());
      }
    }
    return recovered;
  }
}
