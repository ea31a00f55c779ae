package org.xsm.server.vdi;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.WireEnum;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.sr.SrService;
import org.xsm.server.task.Tasks;

/** The VDI messages that reach the storage: wire parameters to VDI service calls. */
@ApplicationScoped
public class VdiRpc implements RpcModule {
  @Inject VdiService vdis;
  @Inject VdiSnapshots snapshots;
  @Inject CbtService cbt;
  @Inject SrService srs;
  @Inject Tasks tasks;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "VDI.create",
        2,
        true,
        true,
        (c, a) -> vdis.create(spec(Params.map(a.get(0), "args"))).value());
    d.register("VDI.destroy", 2, true, true, (c, a) -> none(() -> vdis.destroy(Params.ref(a, 0))));
    d.register("VDI.forget", 2, true, true, (c, a) -> none(() -> vdis.forget(Params.ref(a, 0))));
    d.register(
        "VDI.snapshot", -1, true, true, (c, a) -> snapshots.snapshot(Params.ref(a, 0)).value());
    d.register("VDI.clone", -1, true, true, (c, a) -> snapshots.cloneVdi(Params.ref(a, 0)).value());
    d.register(
        "VDI.resize",
        3,
        true,
        true,
        (c, a) -> none(() -> vdis.resize(Params.ref(a, 0), Params.lng(a.get(1), "size"))));
    d.register(
        "VDI.copy",
        -1,
        true,
        true,
        (c, a) -> vdis.copy(Params.ref(a, 0), Params.ref(a, 1), tasks.progress(c)).value());
    d.register("VDI.introduce", -1, true, true, (c, a) -> introduce(a));
    d.register(
        "VDI.set_name_label",
        3,
        true,
        true,
        (c, a) -> none(() -> vdis.rename(Params.ref(a, 0), Params.str(a, 1), null)));
    d.register(
        "VDI.set_name_description",
        3,
        true,
        true,
        (c, a) -> none(() -> vdis.rename(Params.ref(a, 0), null, Params.str(a, 1))));
    d.register(
        "VDI.enable_cbt", 2, true, true, (c, a) -> none(() -> cbt.setCbt(Params.ref(a, 0), true)));
    d.register(
        "VDI.disable_cbt",
        2,
        true,
        true,
        (c, a) -> none(() -> cbt.setCbt(Params.ref(a, 0), false)));
    d.register(
        "VDI.list_changed_blocks",
        3,
        true,
        false,
        (c, a) -> cbt.listChangedBlocks(Params.ref(a, 0), Params.ref(a, 1)));
    d.register(
        "VDI.data_destroy", 2, true, true, (c, a) -> none(() -> cbt.dataDestroy(Params.ref(a, 0))));
  }

  private static VdiService.VdiSpec spec(Map<String, Object> r) throws XenApiException {
    VdiType type = VdiType.USER;
    if (r.get("type") != null) {
      type = WireEnum.parse(VdiType.class, String.valueOf(r.get("type")));
      if (type == null) {
        throw new XenApiException(
            XenApiError.FIELD_TYPE_ERROR, "type", "not a VDI type: " + r.get("type"));
      }
    }
    return new VdiService.VdiSpec(
        Ref.of(String.valueOf(r.get("SR"))),
        Params.lng(r.get("virtual_size"), "virtual_size"),
        str(r.get("name_label")),
        str(r.get("name_description")),
        type,
        Params.bool(r.getOrDefault("sharable", false), "sharable"),
        Params.stringMap(r.get("other_config"), "other_config"),
        Params.stringMap(r.get("xenstore_data"), "xenstore_data"),
        r.get("tags") == null ? null : Params.strings(r.get("tags"), "tags"),
        r.get("sm_config") == null ? Map.of() : Params.stringMap(r.get("sm_config"), "sm_config"));
  }

  private static String str(Object o) {
    return o == null ? "" : String.valueOf(o);
  }

  /** VDI.introduce(session, uuid, name, description, SR, ..., location, ...): by location. */
  private Object introduce(List<Object> a) throws XenApiException {
    if (a.size() < 10) {
      throw new XenApiException(
          XenApiError.MESSAGE_PARAMETER_COUNT_MISMATCH,
          "VDI.introduce",
          "19",
          String.valueOf(a.size() + 1));
    }
    Ref<Sr> sr = Params.ref(a, 3);
    String location = Params.str(a, 9);
    srs.scan(sr);
    Ref<Vdi> found = srs.find(sr, location);
    if (found == null) {
      throw new XenApiException(XenApiError.VDI_MISSING, sr.value(), location);
    }
    vdis.rename(found, Params.str(a, 1), Params.str(a, 2));
    return found.value();
  }
}
