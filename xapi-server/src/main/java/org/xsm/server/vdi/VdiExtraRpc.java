package org.xsm.server.vdi;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.xsm.api.Capability;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.sr.SrService;

/**
 * The rest of xapi's VDI messages: update, online resize where the driver can, and xapi's errors
 * for pool-database VDIs and live storage migration, which a host of this kind does not have.
 */
@ApplicationScoped
public class VdiExtraRpc implements RpcModule {
  @Inject Database db;
  @Inject SrService srs;
  @Inject VdiService vdis;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "VDI.update",
        2,
        true,
        true,
        (c, a) -> none(() -> srs.scan(db.get(Params.<Vdi>ref(a, 0), Vdi.SR))));
    d.register(
        "VDI.resize_online",
        3,
        true,
        true,
        (c, a) -> {
          Ref<Vdi> vdi = Params.ref(a, 0);
          Ref<Sr> sr = db.get(vdi, Vdi.SR);
          String type = db.get(sr, Sr.TYPE);
          if (!srs.driver(type).info().has(Capability.VDI_RESIZE_ONLINE)) {
            throw new XenApiException(XenApiError.SR_OPERATION_NOT_SUPPORTED, sr.value());
          }
          return none(() -> vdis.resize(vdi, Params.lng(a.get(1), "size")));
        });
    for (String m : List.of("VDI.open_database", "VDI.read_database_pool_uuid")) {
      d.register(
          m,
          2,
          true,
          false,
          (c, a) -> {
            Ref<Vdi> vdi = Params.ref(a, 0);
            VdiType t = db.get(vdi, Vdi.TYPE);
            // Only metadata VDIs hold a pool database; xsm writes none.
            throw new XenApiException(XenApiError.VDI_INCOMPATIBLE_TYPE, vdi.value(), t.wire());
          });
    }
  }
}
