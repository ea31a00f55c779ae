package org.xsm.server.pool;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Host;
import org.xsm.server.model.HostMetrics;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;

/**
 * Liveness in a pool. A member calls the master's {@code host.tickle_heartbeat} every {@code
 * xsm.pool.heartbeat-ms} (2 s), in a pool session it keeps, and follows the master when told {@code
 * HOST_IS_SLAVE} (the master changed). The master notes each beat; a host silent for {@code
 * xsm.pool.host-timeout-ms} (30 s) is marked not live and the VMs resident on it are halted in the
 * records (xapi's host-liveness timeout), and a beat marks it live again.
 */
@ApplicationScoped
public class Heartbeats {
  private static final Logger LOG = Logger.getLogger(Heartbeats.class);

  @ConfigProperty(name = "xsm.pool.heartbeat-ms", defaultValue = "2000")
  long heartbeatMs;

  @ConfigProperty(name = "xsm.pool.host-timeout-ms", defaultValue = "30000")
  long timeoutMs;

  @Inject Database db;
  @Inject HostService hosts;
  @Inject org.xsm.server.vm.VmRecovery recovery;
  @Inject PoolState state;
  @Inject PoolPeers peers;
  @Inject PoolStorage storage;
  @Inject RemoteVdis remoteVdis;

  /** Hosts whose running VMs' disks are to be adopted (see {@link RemoteVdis#adopt}). */
  private final java.util.Set<Ref<Host>> toAdopt =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** The heartbeat's report of the SRs a member has attached (UUIDs, comma-separated). */
  static final String ATTACHED_SRS = "xsm_attached_srs";

  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "pool-heartbeats");
            t.setDaemon(true);
            return t;
          });

  /** When each other host was last heard from (master), in System.nanoTime. */
  private final Map<Ref<Host>, Long> lastSeen = new ConcurrentHashMap<>();

  private ScheduledFuture<?> task;
  private volatile long masterSince;

  /** The member's session on the master and where it is, kept across beats. */
  private record Link(String address, PoolClient client, String session, String host) {}

  private Link link;
  private String lastProblem;

  synchronized void startAsMember() {
    stop();
    task = timer.scheduleWithFixedDelay(this::beat, 0, heartbeatMs, TimeUnit.MILLISECONDS);
  }

  synchronized void startAsMaster() {
    stop();
    masterSince = System.nanoTime();
    lastSeen.clear();
    remoteVdis.clear();
    toAdopt.clear();
    toAdopt.addAll(db.all(Host.CLASS));
    task =
        timer.scheduleWithFixedDelay(
            this::check, heartbeatMs, heartbeatMs / 2 + 1, TimeUnit.MILLISECONDS);
  }

  synchronized void stop() {
    if (task != null) {
      task.cancel(false);
      task = null;
    }
    link = null;
  }

  @PreDestroy
  void shutdown() {
    timer.shutdownNow();
  }

  /** The master heard from {@code host} now. */
  void seen(Ref<Host> host) {
    lastSeen.put(host, System.nanoTime());
  }

  void forget(Ref<Host> host) {
    lastSeen.remove(host);
  }

  /**
   * host.tickle_heartbeat on the master: the host is live (again); the answer is the pool's
   * certificate list, which members keep.
   */
  Map<String, String> tickle(Ref<Host> host, Map<String, String> stuff) throws XenApiException {
    seen(host);
    String srs = stuff.get(ATTACHED_SRS);
    if (srs != null) {
      storage.reported(
          host,
          srs.isEmpty()
              ? java.util.Set.of()
              : new java.util.HashSet<>(java.util.List.of(srs.split(","))));
    }
    Ref<HostMetrics> m = db.get(host, Host.METRICS);
    if (db.exists(HostMetrics.CLASS, m) && !db.get(m, HostMetrics.LIVE)) {
      db.update(
          HostMetrics.CLASS,
          m,
          Values.of(HostMetrics.CLASS)
              .with(HostMetrics.LIVE, true)
              .with(HostMetrics.LAST_UPDATED, Instant.now()));
      LOG.infof("host %s is live again", db.get(host, Host.ADDRESS));
    }
    return new HashMap<>(state.role().certificates());
  }

  private void check() {
    try {
      long now = System.nanoTime();
      Ref<Host> self = hosts.host();
      java.util.List<Ref<Host>> live = new java.util.ArrayList<>();
      for (Ref<Host> h : db.all(Host.CLASS)) {
        if (h.equals(self)) {
          continue;
        }
        long last = lastSeen.getOrDefault(h, masterSince);
        if (now - last > TimeUnit.MILLISECONDS.toNanos(timeoutMs)) {
          markDead(h);
        } else if (lastSeen.containsKey(h)) {
          live.add(h);
        }
      }
      if (!live.isEmpty()) {
        db.beginCall();
        try {
          java.util.Set<Ref<Host>> plugged = storage.plugShared(live);
          for (Ref<Host> h : live) {
            // Once after taking over, and after the host's SRs were plugged again (it restarted or
            // was the master): the disks of its running VMs attached there through its agent.
            if ((toAdopt.remove(h) | plugged.contains(h)) && !remoteVdis.adopt(h)) {
              toAdopt.add(h); // tried again at the next check
            }
          }
        } finally {
          db.endCall();
        }
      }
    } catch (RuntimeException | XenApiException e) {
      LOG.warnf(e, "pool liveness check failed");
    }
  }

  private void markDead(Ref<Host> h) throws XenApiException {
    Ref<HostMetrics> m = db.get(h, Host.METRICS);
    if (!db.exists(HostMetrics.CLASS, m) || !db.get(m, HostMetrics.LIVE)) {
      return;
    }
    db.beginCall();
    try {
      // Its VMs and PBDs first, "not live" last: whoever sees the host not live sees the rest.
      java.util.List<Ref<Vm>> halted = recovery.haltResidentOn(h);
      for (Ref<org.xsm.server.model.Pbd> pbd : db.where(org.xsm.server.model.Pbd.HOST, h)) {
        db.set(pbd, org.xsm.server.model.Pbd.CURRENTLY_ATTACHED, false); // it holds nothing now
      }
      db.update(
          HostMetrics.CLASS,
          m,
          Values.of(HostMetrics.CLASS)
              .with(HostMetrics.LIVE, false)
              .with(HostMetrics.LAST_UPDATED, Instant.now()));
      LOG.warnf(
          "host %s sent no heartbeat for %d ms: not live; %d VM(s) resident on it halted",
          db.get(h, Host.ADDRESS), timeoutMs, halted.size());
    } finally {
      db.endCall();
    }
  }

  private void beat() {
    PoolRole r = state.role();
    if (!r.member()) {
      return;
    }
    try {
      Link l = link;
      if (l == null || !l.address().equals(r.masterAddress())) {
        l = connect(r);
      }
      com.fasterxml.jackson.databind.JsonNode certs;
      try {
        certs = l.client().call("host.tickle_heartbeat", l.session(), l.host(), report());
      } catch (XenApiException e) {
        if (!"SESSION_INVALID".equals(e.code())) {
          throw e;
        }
        l = connect(r); // the master restarted: a new session
        certs = l.client().call("host.tickle_heartbeat", l.session(), l.host(), report());
      }
      Map<String, String> all = new HashMap<>();
      certs.fields().forEachRemaining(e -> all.put(e.getKey(), e.getValue().asText()));
      if (!all.isEmpty() && !all.equals(r.certificates())) {
        state.become(state.role().withCertificates(all));
      }
      problem(null);
    } catch (XenApiException e) {
      if ("HOST_IS_SLAVE".equals(e.code()) && !e.params().isEmpty()) {
        String next = e.params().get(0);
        LOG.infof("the master moved from %s to %s", r.masterAddress(), next);
        state.become(state.role().memberOf(next));
        link = null;
        return;
      }
      link = null;
      problem(String.join(" ", e.errorDescription()));
    } catch (RuntimeException e) {
      link = null;
      LOG.warnf(e, "heartbeat to the master %s failed", r.masterAddress());
    }
  }

  private Map<String, String> report() {
    return Map.of(ATTACHED_SRS, String.join(",", new java.util.TreeSet<>(storage.attachedUuids())));
  }

  private Link connect(PoolRole r) throws XenApiException {
    PoolClient c;
    try {
      c = PoolClient.to(r.masterAddress(), peers.httpsPort(), r.certificateOf(r.masterAddress()));
    } catch (IOException e) {
      throw new XenApiException(
          org.xsm.server.model.XenApiError.CANNOT_CONTACT_HOST, r.masterAddress(), e.getMessage());
    }
    String s = c.call("session.slave_login", "OpaqueRef:NULL", r.secret()).asText();
    String uuid = state.hostUuid();
    String host = c.call("host.get_by_uuid", s, uuid).asText();
    Link l = new Link(r.masterAddress(), c, s, host);
    link = l;
    return l;
  }

  /** Logs a heartbeat problem when it changes (not every 2 s). */
  private void problem(String p) {
    if (java.util.Objects.equals(p, lastProblem)) {
      return;
    }
    lastProblem = p;
    if (p == null) {
      LOG.info("heartbeats reach the master");
    } else {
      LOG.warnf("heartbeat to the master failed: %s", p);
    }
  }
}
