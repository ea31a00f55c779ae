package org.xsm.server.host;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.db.Database;
import org.xsm.server.host.TrustStore.Kind;
import org.xsm.server.model.Host;
import org.xsm.server.model.Pool;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/**
 * The pool's own messages, with xapi's behaviour for a pool of one host (its master): HA, workload
 * balancing and external authentication are not there, and say so as xapi does; licensing,
 * certificates, SSL legacy mode and the master's own transitions are real. Joining and ejecting
 * hosts belong to pools of several hosts (not yet built): they are not registered.
 */
@ApplicationScoped
public class PoolMessages implements RpcModule {
  @Inject Database db;
  @Inject HostService hosts;
  @Inject HostFeatures features;
  @Inject TrustStore trust;

  @Override
  public void register(Dispatcher d) {
    // Licensing
    d.register(
        "pool.apply_edition",
        3,
        true,
        true,
        (c, a) -> {
          Params.ref(a, 0);
          String edition = Params.str(a, 1);
          for (Ref<Host> h : db.all(Host.CLASS)) {
            features.applyEdition(h, edition);
          }
          return "";
        });
    d.register(
        "pool.get_license_state",
        2,
        true,
        false,
        (c, a) -> {
          db.read(Pool.CLASS, Params.ref(a, 0));
          Map<String, String> m = new LinkedHashMap<>();
          m.put("edition", db.get(hosts.host(), Host.EDITION));
          m.put("expiry", "never");
          return m;
        });
    // Trusted certificates and CRLs
    d.register(
        "pool.certificate_install",
        3,
        true,
        true,
        (c, a) -> none(() -> trust.install(Kind.CA, Params.str(a, 0), Params.str(a, 1))));
    d.register(
        "pool.certificate_uninstall",
        2,
        true,
        true,
        (c, a) -> none(() -> trust.uninstall(Kind.CA, Params.str(a, 0))));
    d.register("pool.certificate_list", 1, true, false, (c, a) -> trust.list(Kind.CA));
    d.register("pool.certificate_sync", 1, true, true, (c, a) -> ""); // one host: in sync
    d.register(
        "pool.crl_install",
        3,
        true,
        true,
        (c, a) -> none(() -> trust.install(Kind.CRL, Params.str(a, 0), Params.str(a, 1))));
    d.register(
        "pool.crl_uninstall",
        2,
        true,
        true,
        (c, a) -> none(() -> trust.uninstall(Kind.CRL, Params.str(a, 0))));
    d.register("pool.crl_list", 1, true, false, (c, a) -> trust.list(Kind.CRL));
    // HA: never enabled here (no HA daemon).
    d.register(
        "pool.enable_ha",
        3,
        true,
        true,
        (c, a) -> {
          for (String sr : Params.strings(a.get(0), "heartbeat_srs")) {
            db.read(Sr.CLASS, Ref.of(sr));
          }
          throw new XenApiException(XenApiError.HA_NOT_INSTALLED, hosts.host().value());
        });
    d.register(
        "pool.disable_ha",
        1,
        true,
        true,
        (c, a) -> {
          throw new XenApiException(XenApiError.HA_NOT_ENABLED);
        });
    d.register(
        "pool.ha_prevent_restarts_for", 2, true, true, (c, a) -> ""); // as xapi: fine when off
    d.register(
        "pool.ha_failover_plan_exists", 2, true, false, (c, a) -> Params.lng(a.get(0), "n") == 0);
    d.register("pool.ha_compute_max_host_failures_to_tolerate", 1, true, false, (c, a) -> 0L);
    d.register(
        "pool.ha_compute_hypothetical_max_host_failures_to_tolerate", 2, true, false, (c, a) -> 0L);
    d.register("pool.ha_compute_vm_failover_plan", 3, true, false, (c, a) -> Map.of());
    // Workload balancing: restricted by the license (license_params restrict_wlb).
    for (String m :
        List.of(
            "pool.initialize_wlb/4",
            "pool.deconfigure_wlb/1",
            "pool.send_wlb_configuration/2",
            "pool.retrieve_wlb_configuration/1",
            "pool.retrieve_wlb_recommendations/1",
            "pool.send_test_post/4")) {
      String[] p = m.split("/");
      d.register(
          p[0],
          Integer.parseInt(p[1]),
          true,
          true,
          (c, a) -> {
            throw new XenApiException(XenApiError.LICENCE_RESTRICTION, "WLB");
          });
    }
    // External authentication: no plugin is installed, so no type is known.
    ExternalAuth.register(d, db, Pool.CLASS);
    d.register(
        "pool.detect_nonhomogeneous_external_auth",
        2,
        true,
        false,
        (c, a) -> none(() -> db.read(Pool.CLASS, Params.ref(a, 0))));
    // Local storage caching, redo log, SSL legacy mode
    d.register(
        "pool.enable_local_storage_caching",
        2,
        true,
        true,
        (c, a) -> {
          db.read(Pool.CLASS, Params.ref(a, 0));
          throw new XenApiException(
              XenApiError.SR_OPERATION_NOT_SUPPORTED,
              db.get(hosts.pool(), Pool.DEFAULT_SR).value());
        });
    d.register(
        "pool.disable_local_storage_caching",
        2,
        true,
        true,
        (c, a) -> none(() -> db.read(Pool.CLASS, Params.ref(a, 0))));
    d.register(
        "pool.enable_redo_log",
        2,
        true,
        true,
        (c, a) -> {
          db.read(Sr.CLASS, Params.ref(a, 0));
          throw new XenApiException(
              XenApiError.CANNOT_ENABLE_REDO_LOG,
              "xsm writes its database durably itself; it keeps no redo log on an SR");
        });
    d.register("pool.disable_redo_log", 1, true, true, (c, a) -> "");
    d.register(
        "pool.enable_ssl_legacy",
        2,
        true,
        true,
        (c, a) -> none(() -> features.setSslLegacy(Params.ref(a, 0), true)));
    d.register(
        "pool.disable_ssl_legacy",
        2,
        true,
        true,
        (c, a) -> none(() -> features.setSslLegacy(Params.ref(a, 0), false)));
    d.register(
        "pool.has_extension",
        3,
        true,
        false,
        (c, a) -> {
          db.read(Pool.CLASS, Params.ref(a, 0));
          return false;
        });
    d.register("pool.sync_database", 1, true, true, (c, a) -> "");
    d.register(
        "pool.management_reconfigure",
        2,
        true,
        true,
        (c, a) -> none(() -> features.managementReconfigureNetwork(Params.ref(a, 0))));
    d.register(
        "pool.test_archive_target",
        3,
        true,
        true,
        (c, a) -> {
          throw new XenApiException(XenApiError.MESSAGE_REMOVED);
        });
  }
}
