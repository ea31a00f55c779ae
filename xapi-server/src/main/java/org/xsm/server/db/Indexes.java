package org.xsm.server.db;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.xsm.server.model.Field;
import org.xsm.server.model.Ref;

/**
 * Value-to-records indexes of the indexed fields ({@link Field#indexed()}: every reference field,
 * UUIDs, names, VDI locations). Reference indexes also give the computed side of relations. Changed
 * only under the database's write lock; read concurrently.
 */
final class Indexes {
  private final Map<Field<?, ?>, Map<Object, Set<String>>> byField = new ConcurrentHashMap<>();

  List<String> lookup(Field<?, ?> f, Object value) {
    Map<Object, Set<String>> m = byField.get(f);
    Set<String> s = m == null || value == null ? null : m.get(value);
    return s == null ? List.of() : new ArrayList<>(s);
  }

  void clear() {
    byField.clear();
  }

  void addAll(Rec r) {
    for (Field<?, ?> f : r.cls.fields()) {
      if (f.indexed() && !f.computed()) {
        add(f, r.fields.get(f.name()), r.ref);
      }
    }
  }

  void removeAll(Rec r) {
    for (Field<?, ?> f : r.cls.fields()) {
      if (f.indexed() && !f.computed()) {
        remove(f, r.fields.get(f.name()), r.ref);
      }
    }
  }

  void move(Field<?, ?> f, Object from, Object to, String ref) {
    if (f.indexed()) {
      remove(f, from, ref);
      add(f, to, ref);
    }
  }

  private void add(Field<?, ?> f, Object value, String ref) {
    if (value == null || Ref.NULL_VALUE.equals(value)) {
      return;
    }
    byField
        .computeIfAbsent(f, k -> new ConcurrentHashMap<>())
        .computeIfAbsent(value, k -> ConcurrentHashMap.newKeySet())
        .add(ref);
  }

  private void remove(Field<?, ?> f, Object value, String ref) {
    Map<Object, Set<String>> m = byField.get(f);
    Set<String> s = m == null || value == null ? null : m.get(value);
    if (s != null) {
      s.remove(ref);
      if (s.isEmpty()) {
        m.remove(value, s);
      }
    }
  }
}
