package org.xsm.server.pool;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.runtime.RunDirectory;
import org.xsm.server.tls.HostCertificate;
import org.xsm.server.tls.HttpsServer;
import org.xsm.server.tls.Pem;

/**
 * This host's calls to the other hosts of its pool: each over HTTPS to the host's address on the
 * pool's HTTPS port, trusting the host's certificate from the pool's list, in a session opened with
 * the pool secret ({@code session.slave_login}) and closed after.
 */
@ApplicationScoped
public class PoolPeers {
  private static final Logger LOG = Logger.getLogger(PoolPeers.class);

  @Inject PoolState state;
  @Inject HostCertificate certificate;
  @Inject HttpsServer https;
  @Inject Database db;
  @Inject org.xsm.server.db.Sql sql;
  @Inject RunDirectory dirs;
  @Inject org.xsm.server.boot.Bootstrap bootstrap;
  @Inject Heartbeats heartbeats;
  @Inject PoolStorage storage;
  @Inject AgentVdis agentVdis;

  @Inject org.xsm.server.domain.Domains domains;

  /** What runs domains on this host (every host of a pool runs the same kind). */
  org.xsm.server.domain.Domains.Kind localKind() {
    return domains.kind();
  }

  /** The HTTPS port every host of the pool serves XenAPI on (this host's). */
  int httpsPort() {
    int p = https.publicPort();
    if (p <= 0) {
      throw new IllegalStateException("HTTPS is off: the hosts of a pool talk over HTTPS");
    }
    return p;
  }

  /** This host's certificate (PEM), which the other hosts trust for calls to it. */
  String ownCertificate() {
    try {
      return Pem.encode("CERTIFICATE", certificate.identity().chain().get(0).getEncoded());
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException("this host's certificate cannot be encoded", e);
    }
  }

  /** Calls {@code method} on the host at {@code address} in a pool session; its result. */
  JsonNode call(String address, String method, Object... args) throws XenApiException {
    PoolRole r = state.role();
    PoolClient c;
    try {
      c = PoolClient.to(address, httpsPort(), r.certificateOf(address));
    } catch (IOException e) {
      throw new XenApiException(XenApiError.CANNOT_CONTACT_HOST, address, e.getMessage());
    }
    String session = c.call("session.slave_login", "OpaqueRef:NULL", r.secret()).asText();
    try {
      List<Object> all = new ArrayList<>();
      all.add(session);
      all.addAll(Arrays.asList(args));
      return c.call(method, all.toArray());
    } finally {
      try {
        c.call("session.logout", session);
      } catch (XenApiException e) {
        LOG.debugf("pool session on %s not closed: %s", address, e.getMessage());
      }
    }
  }

  /**
   * On a member, the master's {@code pool.eject}: this host forgets the pool, deletes what it kept
   * of it (its records in its own database, and its local SR's contents, as xapi's eject destroys
   * the host's local storage) and starts as a lone host with fresh records.
   */
  void ejectSelf() throws XenApiException {
    PoolRole.PoolDatabase pool = state.role().database();
    if (pool != null && pool.url().equals(sql.coordinates().url())) {
      // Erasing "its own" records would erase the pool's.
      throw new XenApiException(
          XenApiError.OPERATION_NOT_ALLOWED,
          "this host is configured with the pool's database (XSM_DB_URL); a host that can leave a"
              + " pool keeps its own");
    }
    heartbeats.stop();
    agentVdis.detachAll();
    storage.detachAll();
    state.forget();
    db.eraseStored();
    try {
      deleteTree(dirs.dataDir().resolve("sr").resolve("local"));
    } catch (IOException e) {
      throw new XenApiException(
          XenApiError.INTERNAL_ERROR, "ejected, but the old local SR could not be removed: " + e);
    }
    db.forgetAll();
    db.fence(null);
    db.setPersistent(true);
    try {
      bootstrap.start();
    } catch (Exception e) {
      LOG.errorf(e, "ejected from the pool, but the fresh start failed");
      throw new XenApiException(XenApiError.INTERNAL_ERROR, "fresh start after eject: " + e);
    }
    heartbeats.startAsMaster();
    LOG.info("ejected from the pool: a lone host again, with fresh records");
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }
}
