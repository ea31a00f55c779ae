package org.xsm.server.sr;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.api.Capability;
import org.xsm.server.db.Database;
import org.xsm.server.model.Field;
import org.xsm.server.model.Host;
import org.xsm.server.model.Network;
import org.xsm.server.model.OnBoot;
import org.xsm.server.model.Pbd;
import org.xsm.server.model.Pool;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Task;
import org.xsm.server.model.TaskStatus;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.WireEnum;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/**
 * xapi's own setters of fields it declares read-only (so the generic {@code set_} does not exist):
 * each one with xapi's check — a PBD's device config only while unplugged, a VDI's on_boot through
 * what the SR can do, a network's purposes without conflicts.
 */
@ApplicationScoped
public class SettersRpc implements RpcModule {
  /** Network purposes xapi knows, and the one each conflicts with. */
  private static final Map<String, String> PURPOSE_CONFLICT =
      Map.of("nbd", "insecure_nbd", "insecure_nbd", "nbd");

  @Inject Database db;
  @Inject SrService srs;
  @Inject DeviceConfigSecrets secrets;

  private <C, T> void plain(Dispatcher d, XClass<C> c, Field<C, T> f, Parser<T> p) {
    d.register(
        c.name() + ".set_" + f.name(),
        3,
        true,
        true,
        (ctx, a) -> {
          Ref<C> ref = Params.ref(a, 0);
          db.read(c, ref);
          db.set(ref, f, p.parse(a.get(1)));
          return "";
        });
  }

  @FunctionalInterface
  private interface Parser<T> {
    T parse(Object wire) throws XenApiException;
  }

  @Override
  public void register(Dispatcher d) {
    plain(d, Vdi.CLASS, Vdi.SHARABLE, v -> Params.bool(v, "value"));
    plain(d, Vdi.CLASS, Vdi.READ_ONLY, v -> Params.bool(v, "value"));
    plain(d, Vdi.CLASS, Vdi.ALLOW_CACHING, v -> Params.bool(v, "value"));
    plain(d, Sr.CLASS, Sr.PHYSICAL_SIZE, v -> Params.lng(v, "value"));
    plain(d, Host.CLASS, Host.ADDRESS, v -> String.valueOf(v));
    d.register(
        "VDI.set_on_boot",
        3,
        true,
        true,
        (ctx, a) -> {
          Ref<Vdi> vdi = Params.ref(a, 0);
          OnBoot mode = parse(OnBoot.class, Params.str(a, 1));
          Ref<Sr> sr = db.get(vdi, Vdi.SR);
          if (mode == OnBoot.RESET
              && !srs.driver(db.get(sr, Sr.TYPE)).info().has(Capability.VDI_RESET_ON_BOOT)) {
            throw new XenApiException(XenApiError.SR_OPERATION_NOT_SUPPORTED, sr.value());
          }
          db.set(vdi, Vdi.ON_BOOT, mode);
          return "";
        });
    d.register(
        "PBD.set_device_config",
        3,
        true,
        true,
        (ctx, a) -> {
          Ref<Pbd> pbd = Params.ref(a, 0);
          if (db.get(pbd, Pbd.CURRENTLY_ATTACHED)) {
            throw new XenApiException(
                XenApiError.OPERATION_NOT_ALLOWED, "the PBD is plugged; unplug it first");
          }
          Map<String, String> old = db.get(pbd, Pbd.DEVICE_CONFIG);
          Map<String, String> now = secrets.protect(Params.stringMap(a.get(1), "value"));
          db.set(pbd, Pbd.DEVICE_CONFIG, now);
          secrets.forgetExcept(old, now);

          return "";
        });
    d.register(
        "task.set_status",
        3,
        true,
        true,
        (ctx, a) -> {
          Ref<Task> t = Params.ref(a, 0);
          db.read(Task.CLASS, t);
          db.set(t, Task.STATUS, parse(TaskStatus.class, Params.str(a, 1)));
          return "";
        });
    for (String op : List.of("add_to", "remove_from")) {
      d.register(
          "pool." + op + "_guest_agent_config",
          op.equals("add_to") ? 4 : 3,
          true,
          true,
          (ctx, a) -> {
            Ref<Pool> pool = Params.ref(a, 0);
            String key = Params.str(a, 1);
            db.modify(
                Pool.CLASS,
                pool,
                r -> {
                  Map<String, String> m = new LinkedHashMap<>(r.get(Pool.GUEST_AGENT_CONFIG));
                  if (op.equals("add_to")) {
                    if (m.containsKey(key)) {
                      throw new XenApiException(
                          XenApiError.MAP_DUPLICATE_KEY,
                          "pool",
                          "guest_agent_config",
                          pool.value(),
                          key);
                    }
                    m.put(key, Params.str(a, 2));
                  } else {
                    m.remove(key);
                  }
                  return Values.of(Pool.CLASS).with(Pool.GUEST_AGENT_CONFIG, m);
                });
            return "";
          });
    }
    d.register("network.add_purpose", 3, true, true, (ctx, a) -> purpose(a, true));
    d.register("network.remove_purpose", 3, true, true, (ctx, a) -> purpose(a, false));
  }

  private Object purpose(List<Object> a, boolean add) throws XenApiException {
    Ref<Network> net = Params.ref(a, 0);
    String p = Params.str(a, 1);
    if (!PURPOSE_CONFLICT.containsKey(p)) {
      throw new XenApiException(XenApiError.INVALID_VALUE, "purpose", p);
    }
    if (add) {
      String bad = PURPOSE_CONFLICT.get(p);
      for (Ref<Network> n : db.all(Network.CLASS)) {
        if (db.get(n, Network.PURPOSE).contains(bad)) {
          throw new XenApiException(XenApiError.NETWORK_INCOMPATIBLE_PURPOSES, p, bad);
        }
      }
    }
    db.modify(
        Network.CLASS,
        net,
        r -> {
          List<String> l = new ArrayList<>(r.get(Network.PURPOSE));
          l.remove(p);
          if (add) {
            l.add(p);
          }
          return Values.of(Network.CLASS).with(Network.PURPOSE, l);
        });
    return "";
  }

  private static <E extends Enum<E> & WireEnum> E parse(Class<E> type, String wire)
      throws XenApiException {
    for (E e : type.getEnumConstants()) {
      if (e.wire().equalsIgnoreCase(wire)) {
        return e;
      }
    }
    throw new XenApiException(XenApiError.INVALID_VALUE, type.getSimpleName(), wire);
  }
}
