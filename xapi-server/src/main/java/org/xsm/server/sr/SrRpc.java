package org.xsm.server.sr;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.xsm.server.model.Ref;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/** The SR and PBD messages: wire parameters to {@link SrLifecycle} and {@link SrService} calls. */
@ApplicationScoped
public class SrRpc implements RpcModule {
  @Inject SrService srs;
  @Inject SrLifecycle lifecycle;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "SR.create",
        10,
        true,
        true,
        (c, a) ->
            lifecycle
                .create(
                    Params.ref(a, 0),
                    Params.stringMap(a.get(1), "device_config"),
                    Params.lng(a.get(2), "physical_size"),
                    spec(a, 3))
                .value());
    d.register(
        "SR.introduce",
        8,
        true,
        true,
        (c, a) -> lifecycle.introduce(Params.str(a, 0), spec(a, 1)).value());
    d.register(
        "SR.probe",
        5,
        true,
        false,
        (c, a) -> lifecycle.probe(Params.stringMap(a.get(1), "device_config"), Params.str(a, 2)));
    d.register("SR.scan", 2, true, true, (c, a) -> none(() -> srs.scan(Params.ref(a, 0))));
    d.register(
        "SR.forget", 2, true, true, (c, a) -> none(() -> lifecycle.forget(Params.ref(a, 0))));
    d.register(
        "SR.destroy", 2, true, true, (c, a) -> none(() -> lifecycle.destroy(Params.ref(a, 0))));
    d.register(
        "PBD.create",
        2,
        true,
        true,
        (c, a) -> {
          Map<String, Object> r = Params.map(a.get(0), "args");
          return lifecycle
              .createPbd(
                  Ref.of(String.valueOf(r.get("host"))),
                  Ref.of(String.valueOf(r.get("SR"))),
                  Params.stringMap(r.get("device_config"), "device_config"),
                  Params.stringMap(r.get("other_config"), "other_config"))
              .value();
        });
    d.register(
        "PBD.destroy", 2, true, true, (c, a) -> none(() -> lifecycle.destroyPbd(Params.ref(a, 0))));
    d.register("PBD.plug", 2, true, true, (c, a) -> none(() -> srs.plug(Params.ref(a, 0))));
    d.register("PBD.unplug", 2, true, true, (c, a) -> none(() -> srs.unplug(Params.ref(a, 0))));
  }

  /**
   * name_label, name_description, type, content_type, shared, sm_config from position {@code i}.
   */
  private static SrLifecycle.SrSpec spec(List<Object> a, int i) throws XenApiException {
    return new SrLifecycle.SrSpec(
        Params.str(a, i),
        Params.str(a, i + 1),
        Params.str(a, i + 2),
        Params.str(a, i + 3),
        Params.bool(a.get(i + 4), "shared"),
        Params.stringMap(a.get(i + 5), "sm_config"));
  }
}
