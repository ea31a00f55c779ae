package org.xsm.server.sr;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import org.xsm.server.db.Database;
import org.xsm.server.model.PoolUpdate;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/**
 * The rest of xapi's SR and pool_update messages: what an SR answers about itself (supported types,
 * probe_ext, update, HA and database-replication suitability), and xapi's errors for updates, which
 * a host of this kind does not have.
 */
@ApplicationScoped
public class SrExtraRpc implements RpcModule {
  @Inject Database db;
  @Inject SrService srs;
  @Inject SrLifecycle lifecycle;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "SR.get_supported_types",
        1,
        true,
        false,
        (c, a) -> new ArrayList<>(srs.registry().types()));
    d.register(
        "SR.probe_ext",
        5,
        true,
        false,
        (c, a) ->
            lifecycle.probeExt(Params.stringMap(a.get(1), "device_config"), Params.str(a, 2)));
    d.register("SR.update", 2, true, true, (c, a) -> none(() -> srs.scan(Params.ref(a, 0))));
    d.register(
        "SR.assert_can_host_ha_statefile",
        2,
        true,
        false,
        (c, a) -> none(() -> requireShared(Params.ref(a, 0))));
    for (String m :
        List.of("SR.assert_supports_database_replication", "SR.enable_database_replication")) {
      d.register(
          m,
          2,
          true,
          true,
          (c, a) -> {
            Ref<Sr> sr = Params.ref(a, 0);
            requireShared(sr);
            // xsm's database is not replicated onto SRs (it has no redo log).
            throw new XenApiException(XenApiError.SR_OPERATION_NOT_SUPPORTED, sr.value());
          });
    }
    d.register(
        "SR.disable_database_replication",
        2,
        true,
        true,
        (c, a) -> none(() -> db.read(Sr.CLASS, Params.ref(a, 0))));
    d.register(
        "pool_update.introduce",
        2,
        true,
        true,
        (c, a) -> {
          Ref<Vdi> vdi = Params.ref(a, 0);
          db.read(Vdi.CLASS, vdi);
          throw new XenApiException(
              XenApiError.INVALID_UPDATE, "the VDI holds no update package (no update.xml)");
        });
    for (String m :
        List.of(
            "pool_update.precheck/3",
            "pool_update.apply/3",
            "pool_update.pool_apply/2",
            "pool_update.pool_clean/2",
            "pool_update.destroy/2")) {
      String[] p = m.split("/");
      d.register(
          p[0],
          Integer.parseInt(p[1]),
          true,
          !p[0].endsWith("precheck"),
          (c, a) -> {
            // No update can be introduced, so no reference is valid.
            db.read(PoolUpdate.CLASS, Params.ref(a, 0));
            throw new XenApiException(XenApiError.INVALID_UPDATE, "no such update");
          });
    }
  }

  private void requireShared(Ref<Sr> sr) throws XenApiException {
    if (!db.get(sr, Sr.SHARED)) {
      throw new XenApiException(XenApiError.HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED, sr.value());
    }
  }
}
