package org.xsm.server.db;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.XenApiException;

/**
 * The messages every class has, generated from {@link Schema}: get_all, get_all_records,
 * get_record, get_by_uuid, get_by_name_label, get_/set_ per field, add_to_/remove_from_ for
 * writable maps, add_/remove_ for writable sets.
 */
@ApplicationScoped
public class GenericMessages implements RpcModule {
  @Inject Database db;

  @Override
  public void register(Dispatcher d) {
    for (ClassSpec c : Schema.classes()) {
      String n = c.name();
      d.register(n + ".get_all", 1, true, false, (ctx, a) -> db.all(n));
      d.register(
          n + ".get_all_records",
          1,
          true,
          false,
          (ctx, a) -> {
            Map<String, Object> out = new LinkedHashMap<>();
            for (String ref : db.all(n)) {
              Map<String, Object> r = db.recordOrNull(n, ref);
              if (r != null) { // destroyed while listing: not part of the answer
                out.put(ref, r);
              }
            }
            return out;
          });
      d.register(n + ".get_record", 2, true, false, (ctx, a) -> db.record(n, Params.str(a, 0)));
      d.register(n + ".get_by_uuid", 2, true, false, (ctx, a) -> db.byUuid(n, Params.str(a, 0)));
      if (c.has("name_label")) {
        d.register(
            n + ".get_by_name_label",
            2,
            true,
            false,
            (ctx, a) -> {
              String label = Params.str(a, 0);
              return db.find(n, f -> label.equals(f.get("name_label")));
            });
      }
      for (FieldSpec f : c.fields()) {
        String fn = f.name();
        d.register(n + ".get_" + fn, 2, true, false, (ctx, a) -> db.field(n, Params.str(a, 0), fn));
        if (!f.writable()) {
          continue;
        }
        d.register(
            n + ".set_" + fn,
            3,
            true,
            true,
            (ctx, a) -> {
              db.set(n, Params.str(a, 0), fn, coerce(f, a.get(1)));
              return "";
            });
        if (f.type() == FieldType.MAP) {
          d.register(
              n + ".add_to_" + fn,
              4,
              true,
              true,
              (ctx, a) -> {
                String ref = Params.str(a, 0);
                Map<String, Object> m = Params.map(db.field(n, ref, fn), fn);
                String k = Params.str(a, 1);
                if (m.containsKey(k)) {
                  throw new XenApiException("MAP_DUPLICATE_KEY", n, fn, ref, k);
                }
                m.put(k, Params.str(a, 2));
                db.set(n, ref, fn, m);
                return "";
              });
          d.register(
              n + ".remove_from_" + fn,
              3,
              true,
              true,
              (ctx, a) -> {
                String ref = Params.str(a, 0);
                Map<String, Object> m = Params.map(db.field(n, ref, fn), fn);
                m.remove(Params.str(a, 1));
                db.set(n, ref, fn, m);
                return "";
              });
        }
        if (f.type() == FieldType.STRING_SET || f.type() == FieldType.REF_SET) {
          d.register(
              n + ".add_" + fn,
              3,
              true,
              true,
              (ctx, a) -> {
                String ref = Params.str(a, 0);
                List<String> s = new ArrayList<>(Params.strings(db.field(n, ref, fn), fn));
                String v = Params.str(a, 1);
                if (!s.contains(v)) {
                  s.add(v);
                }
                db.set(n, ref, fn, s);
                return "";
              });
          d.register(
              n + ".remove_" + fn,
              3,
              true,
              true,
              (ctx, a) -> {
                String ref = Params.str(a, 0);
                List<String> s = new ArrayList<>(Params.strings(db.field(n, ref, fn), fn));
                s.remove(Params.str(a, 1));
                db.set(n, ref, fn, s);
                return "";
              });
        }
      }
    }
  }

  /** A wire value as the field's stored type. */
  public static Object coerce(FieldSpec f, Object v) throws XenApiException {
    String what = f.name();
    return switch (f.type()) {
      case STRING, ENUM, REF -> v == null ? "" : String.valueOf(v);
      case INT -> Params.lng(v, what);
      case FLOAT -> Params.dbl(v, what);
      case BOOL -> Params.bool(v, what);
      case DATETIME -> Params.time(v, what);
      case STRING_SET, REF_SET -> Params.strings(v, what);
      case MAP -> Params.stringMap(v, what);
    };
  }
}
