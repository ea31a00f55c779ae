package org.xsm.server.stats;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.xsm.server.db.Database;
import org.xsm.server.model.Schema;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/**
 * {@code VM|host|SR.get_data_sources}, {@code query_data_source}, {@code record_data_source} and
 * {@code forget_data_source_archives}, from the same archives as {@code /rrd_updates}. Every data
 * source is recorded from the start (xapi's "standard" ones), so {@code record_data_source} of a
 * known one changes nothing; an unknown name is {@code INTERNAL_ERROR}, as xapi reports rrdd's
 * failure to find it.
 */
@ApplicationScoped
public class DataSourceRpc implements RpcModule {
  @Inject Sampler sampler;
  @Inject Database db;

  @Override
  public void register(Dispatcher d) {
    for (String[] c : new String[][] {{"VM", "vm"}, {"host", "host"}, {"SR", "sr"}}) {
      XClass<?> cls = Schema.get(c[0]);
      String kind = c[1];
      d.register(
          c[0] + ".get_data_sources",
          2,
          true,
          false,
          (ctx, a) -> {
            String uuid = uuid(cls, Params.str(a, 0));
            List<Object> out = new ArrayList<>();
            new TreeMap<>(sampler.archivesOf(kind, uuid))
                .forEach((name, archive) -> out.add(record(name, archive)));
            return out;
          });
      d.register(
          c[0] + ".query_data_source",
          3,
          true,
          false,
          (ctx, a) -> archive(kind, uuid(cls, Params.str(a, 0)), Params.str(a, 1)).last());
      d.register(
          c[0] + ".record_data_source",
          3,
          true,
          true,
          (ctx, a) -> {
            archive(kind, uuid(cls, Params.str(a, 0)), Params.str(a, 1));
            return "";
          });
      d.register(
          c[0] + ".forget_data_source_archives",
          3,
          true,
          true,
          (ctx, a) -> {
            String uuid = uuid(cls, Params.str(a, 0));
            archive(kind, uuid, Params.str(a, 1));
            sampler.forget(kind, uuid, Params.str(a, 1));
            return "";
          });
    }
  }

  private String uuid(XClass<?> cls, String ref) throws XenApiException {
    return String.valueOf(db.wireField(cls, ref, "uuid"));
  }

  private Archive archive(String kind, String uuid, String name) throws XenApiException {
    Archive a = sampler.archivesOf(kind, uuid).get(name);
    if (a == null) {
      throw new XenApiException(
          XenApiError.INTERNAL_ERROR, "no data source " + name + " for " + kind + " " + uuid);
    }
    return a;
  }

  /** A {@code data_source} record. */
  private static Map<String, Object> record(String name, Archive a) {
    DataSourceKind k = DataSourceKind.of(name);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("name_label", name);
    r.put("name_description", k.description());
    r.put("enabled", true);
    r.put("standard", true);
    r.put("units", k.units());
    r.put("min", 0.0);
    r.put("max", k.max());
    r.put("value", a.last());
    return r;
  }
}
