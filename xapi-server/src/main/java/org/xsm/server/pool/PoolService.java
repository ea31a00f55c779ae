package org.xsm.server.pool;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.db.Sql;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Host;
import org.xsm.server.model.HostMetrics;
import org.xsm.server.model.Pbd;
import org.xsm.server.model.Pif;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.SrService;

/**
 * Membership, as xapi orders it: {@code pool.join} on the joining host (checks, the master's
 * certificate read and then trusted, a login with the user's password, the pool secret, the host
 * record made by the master), and {@code pool.eject} on the master (the member is told first, then
 * its records go).
 *
 * <p>Crash safety: a joiner records its new role (a file renamed into place) only after the master
 * has its host record; a crash before leaves a lone host and a host record the master's liveness
 * check marks dead (ejecting it cleans up). An ejected member forgets its role before it makes its
 * fresh records, so a crash in between restarts it as a lone host making them again.
 */
@ApplicationScoped
public class PoolService {
  private static final Logger LOG = Logger.getLogger(PoolService.class);

  @Inject Database db;
  @Inject Sql sql;
  @Inject HostService hosts;
  @Inject SrService storage;
  @Inject PoolState state;
  @Inject PoolPeers peers;
  @Inject Heartbeats heartbeats;
  @Inject org.xsm.server.session.Sessions sessions;
  @Inject org.xsm.server.boot.HostInventory inventory;
  @Inject org.xsm.server.sr.SrLifecycle lifecycle;
  @Inject org.xsm.server.sr.DeviceConfigSecrets secrets;

  /** pool.initial_auth: the pool secret, for a host joining (the caller is a pool admin). */
  public String initialAuth() {
    return state.secret();
  }

  /** session.slave_login: a pool session for a host holding the pool secret. */
  public String slaveLogin(String secret) throws XenApiException {
    String mine = state.role().secret();
    if (mine == null
        || !java.security.MessageDigest.isEqual(
            mine.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
            secret.getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
      throw new XenApiException(
          XenApiError.SESSION_AUTHENTICATION_FAILED, "pool", "the pool secret is not this pool's");
    }
    return sessions.poolLogin();
  }

  /**
   * pool.join, on the joining host: it becomes a member of the pool whose master is at {@code
   * masterAddress}.
   */
  public void join(String masterAddress, String user, String password) throws XenApiException {
    if (db.all(Host.CLASS).size() > 1) {
      throw new XenApiException(XenApiError.JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS);
    }
    for (Ref<Vm> vm : db.all(Vm.CLASS)) {
      PowerState p = db.get(vm, Vm.POWER_STATE);
      if (!db.get(vm, Vm.IS_CONTROL_DOMAIN)
          && (p == PowerState.RUNNING || p == PowerState.PAUSED)) {
        throw new XenApiException(XenApiError.JOINING_HOST_CANNOT_HAVE_RUNNING_VMS);
      }
    }
    for (Ref<Sr> sr : db.all(Sr.CLASS)) {
      if (db.get(sr, Sr.SHARED)) {
        throw new XenApiException(XenApiError.JOINING_HOST_CANNOT_CONTAIN_SHARED_SRS);
      }
    }
    Ref<Host> self = hosts.host();
    String myAddress = db.get(self, Host.ADDRESS);
    if (masterAddress.equals(myAddress)) {
      throw new XenApiException(
          XenApiError.JOINING_HOST_CONNECTION_FAILED, "a host cannot join its own pool");
    }
    PoolClient master;
    String masterCert;
    try {
      masterCert = PoolClient.fetchCertificate(masterAddress, peers.httpsPort());
      master = PoolClient.to(masterAddress, peers.httpsPort(), masterCert);
    } catch (java.io.IOException e) {
      throw new XenApiException(
          XenApiError.JOINING_HOST_CONNECTION_FAILED, masterAddress + ": " + e.getMessage());
    }
    String session =
        master.call("session.login_with_password", user, password, "2.21", "pool.join").asText();
    try {
      String secret = master.call("pool.initial_auth", session).asText();
      Map<String, Object> me = new LinkedHashMap<>();
      me.put("uuid", db.get(self, Host.UUID));
      me.put("name_label", db.get(self, Host.NAME_LABEL));
      me.put("hostname", db.get(self, Host.HOSTNAME));
      me.put("address", myAddress);
      me.put("certificate", peers.ownCertificate());
      JsonNode added = master.call("pool.xsm_add_member", session, me);
      JsonNode dbNode = added.path("database");
      Map<String, String> certs = new HashMap<>();
      added
          .path("certificates")
          .fields()
          .forEachRemaining(e -> certs.put(e.getKey(), e.getValue().asText()));
      certs.put(masterAddress, masterCert);
      PoolRole member =
          new PoolRole(
              PoolRole.Role.MEMBER,
              masterAddress,
              secret,
              new PoolRole.PoolDatabase(
                  dbNode.path("url").asText(),
                  dbNode.path("user").asText(),
                  dbNode.path("password").asText()),
              certs);
      // From here on this host's records are the pool's: its own are dropped (as xapi's joiner
      // drops its database), its SRs unplugged, nothing of it written again.
      for (Ref<Pbd> pbd : db.where(Pbd.HOST, self)) {
        try {
          storage.unplug(pbd);
        } catch (XenApiException e) {
          LOG.warnf(e, "joining: PBD %s could not be unplugged", pbd);
        }
      }
      state.become(member);
      db.setPersistent(false);
      db.forgetAll();
      heartbeats.startAsMember();
      LOG.infof("joined the pool of %s", masterAddress);
    } finally {
      try {
        master.call("session.logout", session);
      } catch (XenApiException e) {
        LOG.debugf("logout from the master after the join: %s", e.getMessage());
      }
    }
  }

  /**
   * The master's side of a join: the joiner's host record (with its metrics, live, and a management
   * PIF on the pool network); its certificate joins the pool's list. The answer carries the pool's
   * database and every host's certificate.
   */
  public Map<String, Object> addMember(Map<String, String> joiner) throws XenApiException {
    String uuid = joiner.get("uuid");
    String address = joiner.get("address");
    String certificate = joiner.get("certificate");
    if (uuid == null || address == null || certificate == null) {
      throw new XenApiException(
          XenApiError.INVALID_VALUE, "host", "uuid, address and certificate are required");
    }
    if (!db.where(Host.UUID, uuid).isEmpty()) {
      throw new XenApiException(XenApiError.UUID_INVALID, "host", uuid + " is already in the pool");
    }
    Ref<HostMetrics> metrics =
        db.create(
            HostMetrics.CLASS,
            Values.of(HostMetrics.CLASS)
                .with(HostMetrics.LIVE, true)
                .with(HostMetrics.LAST_UPDATED, Instant.now()));
    Ref<Host> host =
        db.create(
            Host.CLASS,
            Values.of(Host.CLASS)
                .with(Host.UUID, uuid)
                .with(Host.NAME_LABEL, joiner.getOrDefault("name_label", address))
                .with(Host.HOSTNAME, joiner.getOrDefault("hostname", address))
                .with(Host.ADDRESS, address)
                .with(Host.METRICS, metrics)
                .with(Host.SOFTWARE_VERSION, db.get(hosts.host(), Host.SOFTWARE_VERSION)));
    inventory.managementPif(host);
    // Its PBD of every shared SR, plugged by the liveness loop once it beats as a member.
    for (Ref<Sr> sr : db.all(Sr.CLASS)) {
      if (db.get(sr, Sr.SHARED)) {
        List<Ref<Pbd>> pbds = db.get(sr, Sr.PBDS);
        if (!pbds.isEmpty()) {
          lifecycle.createPbd(
              host, sr, secrets.reveal(db.get(pbds.get(0), Pbd.DEVICE_CONFIG)), Map.of());
        }
      }
    }
    Map<String, String> certs = new HashMap<>(state.role().certificates());
    certs.put(address, certificate);
    certs.put(db.get(hosts.host(), Host.ADDRESS), peers.ownCertificate());
    state.secret(); // made if missing, before the role is written with the certificates
    state.become(state.role().withCertificates(certs));
    heartbeats.seen(host);
    Sql.Coordinates pool = sql.coordinates();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("host", host.value());
    out.put(
        "database", Map.of("url", pool.url(), "user", pool.user(), "password", pool.password()));
    out.put("certificates", certs);
    LOG.infof("host %s (%s) joined the pool", address, uuid);
    return out;
  }

  /**
   * pool.eject on the master: refused for the master itself and for a host with running VMs; the
   * host is told first (it becomes a lone host with fresh records), then its records go. On the
   * member, the master's call: forget the pool and start afresh.
   */
  public void eject(Ref<Host> host) throws XenApiException {
    if (state.isMember()) {
      peers.ejectSelf();
      return;
    }
    if (host.equals(hosts.host())) {
      throw new XenApiException(
          XenApiError.OPERATION_NOT_ALLOWED,
          "the master cannot be ejected: designate another host as the master first");
    }
    for (Ref<Vm> vm : db.where(Vm.RESIDENT_ON, host)) {
      if (!db.get(vm, Vm.IS_CONTROL_DOMAIN) && db.get(vm, Vm.POWER_STATE) != PowerState.HALTED) {
        throw new XenApiException(XenApiError.HOST_HAS_RESIDENT_VMS, host.value());
      }
    }
    String address = db.get(host, Host.ADDRESS);
    if (db.get(db.get(host, Host.METRICS), HostMetrics.LIVE)) {
      peers.call(address, "pool.eject", host.value()); // it forgets the pool first
    }
    for (Ref<Pbd> pbd : db.where(Pbd.HOST, host)) {
      db.destroy(Pbd.CLASS, pbd);
    }
    for (Ref<Pif> pif : db.get(host, Host.PIFS)) {
      db.destroy(Pif.CLASS, pif);
    }
    Ref<HostMetrics> metrics = db.get(host, Host.METRICS);
    db.destroy(Host.CLASS, host);
    if (db.exists(HostMetrics.CLASS, metrics)) {
      db.destroy(HostMetrics.CLASS, metrics);
    }
    Map<String, String> certs = new HashMap<>(state.role().certificates());
    certs.remove(address);
    state.become(state.role().withCertificates(certs));
    heartbeats.forget(host);
    LOG.infof("host %s ejected from the pool", address);
  }

  /** The hosts of the pool other than this one. */
  List<Ref<Host>> others() {
    Ref<Host> self = hosts.host();
    return db.all(Host.CLASS).stream().filter(h -> !h.equals(self)).toList();
  }
}
