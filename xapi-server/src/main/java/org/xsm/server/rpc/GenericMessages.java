package org.xsm.server.rpc;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.db.Database;
import org.xsm.server.model.Field;
import org.xsm.server.model.FieldType;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Schema;
import org.xsm.server.model.Values;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * The messages every class has, generated from the model ({@link Schema}): get_all,
 * get_all_records, get_record, get_by_uuid, get_by_name_label, get_/set_ per field, add_to_/
 * remove_from_ for writable maps, add_/remove_ for writable sets. Each read-modify-write (add_to,
 * remove_from, add, remove) is one atomic step of the database. A feature that must act on a change
 * (a VDI rename reaches its SR) registers the same message itself, which takes precedence.
 */
@ApplicationScoped
public class GenericMessages implements RpcModule {
  @Inject Database db;

  @Override
  public void register(Dispatcher d) {
    for (XClass<?> c : Schema.classes()) {
      registerClass(d, c);
    }
  }

  private <C> void registerClass(Dispatcher d, XClass<C> c) {
    String n = c.name();
    if (c.offers(XClass.Generic.LISTINGS)) {
      registerListings(d, c);
    }
    d.registerDefault(
        n + ".get_record", 2, true, false, (ctx, a) -> db.wireRecord(c, Params.str(a, 0)));
    d.registerDefault(
        n + ".get_by_uuid", 2, true, false, (ctx, a) -> db.byUuid(c, Params.str(a, 0)).value());
    @SuppressWarnings("unchecked")
    Field<C, String> label = (Field<C, String>) c.field("name_label");
    if (label != null && c.offers(XClass.Generic.BY_NAME_LABEL)) {
      d.registerDefault(
          n + ".get_by_name_label",
          2,
          true,
          false,
          (ctx, a) -> refs(db.where(label, Params.str(a, 0))));
    }
    if (c.offers(XClass.Generic.FIELD_ACCESSORS)) {
      for (Field<C, ?> f : c.fields()) {
        registerField(d, c, f);
      }
    }
  }

  /** get_all and get_all_records, for the classes xapi lists ({@link XClass#offers}). */
  private <C> void registerListings(Dispatcher d, XClass<C> c) {
    String n = c.name();
    d.registerDefault(n + ".get_all", 1, true, false, (ctx, a) -> refs(db.all(c)));
    d.registerDefault(
        n + ".get_all_records",
        1,
        true,
        false,
        (ctx, a) -> {
          Map<String, Object> out = new LinkedHashMap<>();
          for (Ref<C> ref : db.all(c)) {
            Map<String, Object> r = db.wireRecordOrNull(c, ref.value());
            if (r != null) { // destroyed while listing: not part of the answer
              out.put(ref.value(), r);
            }
          }
          return out;
        });
  }

  private <C> void registerField(Dispatcher d, XClass<C> c, Field<C, ?> f) {
    String n = c.name();
    String fn = f.name();
    d.registerDefault(
        n + ".get_" + fn, 2, true, false, (ctx, a) -> db.wireField(c, Params.str(a, 0), fn));
    if (!f.writable()) {
      return;
    }
    d.registerDefault(
        n + ".set_" + fn,
        3,
        true,
        true,
        (ctx, a) -> {
          Object v = WireValues.coerce(f, a.get(1));
          db.update(c, Params.ref(a, 0), Values.of(c).putStored(fn, v));
          return "";
        });
    if (f.type() == FieldType.MAP) {
      registerChange(
          d,
          c,
          fn,
          "add_to_",
          4,
          (ref, a, current) -> {
            Map<String, Object> m = Params.map(current, fn);
            String k = Params.str(a, 1);
            if (m.containsKey(k)) {
              throw new XenApiException(XenApiError.MAP_DUPLICATE_KEY, n, fn, ref, k);
            }
            m.put(k, Params.str(a, 2));
            return m;
          });
      registerChange(
          d,
          c,
          fn,
          "remove_from_",
          3,
          (ref, a, current) -> {
            Map<String, Object> m = Params.map(current, fn);
            m.remove(Params.str(a, 1));
            return m;
          });
    }
    if (f.type() == FieldType.STRING_SET || f.type() == FieldType.REF_SET) {
      registerChange(
          d,
          c,
          fn,
          "add_",
          3,
          (ref, a, current) -> {
            List<String> s = new ArrayList<>(Params.strings(current, fn));
            String v = Params.str(a, 1);
            if (!s.contains(v)) {
              s.add(v);
            }
            return s;
          });
      registerChange(
          d,
          c,
          fn,
          "remove_",
          3,
          (ref, a, current) -> {
            List<String> s = new ArrayList<>(Params.strings(current, fn));
            s.remove(Params.str(a, 1));
            return s;
          });
    }
  }

  /** A new value of a map or set field from its current one and the call's parameters. */
  @FunctionalInterface
  private interface Change {
    Object apply(String ref, List<Object> args, Object current) throws XenApiException;
  }

  /**
   * Registers {@code <class>.<prefix><field>}: the field's new value is computed from its current
   * one in one atomic step of the database, so concurrent changes of one record all take effect.
   */
  private <C> void registerChange(
      Dispatcher d, XClass<C> c, String fn, String prefix, int arity, Change change) {
    d.registerDefault(
        c.name() + "." + prefix + fn,
        arity,
        true,
        true,
        (ctx, a) -> {
          Ref<C> ref = Params.ref(a, 0);
          db.modify(
              c,
              ref,
              row ->
                  Values.of(c)
                      .putStored(
                          fn, change.apply(ref.value(), a, db.wireField(c, ref.value(), fn))));
          return "";
        });
  }

  private static List<String> refs(List<? extends Ref<?>> refs) {
    List<String> out = new ArrayList<>(refs.size());
    refs.forEach(r -> out.add(r.value()));
    return out;
  }
}
