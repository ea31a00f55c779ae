package org.xsm.server.db;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.xsm.server.rpc.XenApiException;

/**
 * The XenAPI object database, as xapi keeps its own: every record in memory (reads never touch the
 * disk), each change written through to H2 ({@link XapiRow}) before the call returns, and recorded
 * in an event log for {@code event.from}.
 *
 * <p>Only stored fields are kept; the "many" side of each relation (VM.VBDs) is computed from an
 * index of the single side (VBD.VM), so the two always agree.
 *
 * <p>Thread-safety: writers serialize on the database; readers see a consistent record.
 */
@ApplicationScoped
public class Database {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One stored record. */
  private static final class Rec {
    final String ref;
    final ClassSpec cls;
    final Map<String, Object> fields;

    Rec(String ref, ClassSpec cls, Map<String, Object> fields) {
      this.ref = ref;
      this.cls = cls;
      this.fields = fields;
    }
  }

  private final Map<String, Rec> byRef = new ConcurrentHashMap<>();
  private final Map<String, Map<String, Rec>> byClass = new ConcurrentHashMap<>();
  private final Map<String, String> refByUuid = new ConcurrentHashMap<>();

  /** "VBD.VM" -> target ref -> referring refs. */
  private final Map<String, Map<String, Set<String>>> inverse = new ConcurrentHashMap<>();

  private final EventLog events = new EventLog();
  private volatile boolean persistent = true;

  public EventLog events() {
    return events;
  }

  /** Loads every persisted record (at startup). */
  public synchronized void load() {
    List<XapiRow> rows = QuarkusTransaction.requiringNew().call(() -> XapiRow.<XapiRow>listAll());
    for (XapiRow r : rows) {
      ClassSpec c = Schema.get(r.cls);
      if (c == null) {
        continue;
      }
      Map<String, Object> raw;
      try {
        raw = JSON.readValue(r.fields, new TypeReference<LinkedHashMap<String, Object>>() {});
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("damaged record " + r.ref + " in the database", e);
      }
      Map<String, Object> f = new LinkedHashMap<>();
      for (FieldSpec fs : c.fields()) {
        if (!fs.computed()) {
          f.put(fs.name(), fromJson(fs, raw.get(fs.name())));
        }
      }
      put(new Rec(r.ref, c, f));
    }
  }

  /** Used by tests and benchmarks that need no durability. */
  public void setPersistent(boolean p) {
    persistent = p;
  }

  private static Object fromJson(FieldSpec fs, Object v) {
    if (v == null) {
      return fs.defaultValue();
    }
    return switch (fs.type()) {
      case INT -> ((Number) v).longValue();
      case FLOAT -> ((Number) v).doubleValue();
      case DATETIME -> Instant.parse((String) v);
      default -> v;
    };
  }

  private void put(Rec r) {
    byRef.put(r.ref, r);
    byClass.computeIfAbsent(key(r.cls), k -> new ConcurrentHashMap<>()).put(r.ref, r);
    refByUuid.put(key(r.cls) + "/" + r.fields.get("uuid"), r.ref);
    for (FieldSpec fs : r.cls.fields()) {
      if (fs.type() == FieldType.REF) {
        index(r.cls, fs.name(), (String) r.fields.get(fs.name()), r.ref, true);
      }
    }
  }

  private static String key(ClassSpec c) {
    return c.name().toLowerCase(java.util.Locale.ROOT);
  }

  private void index(ClassSpec c, String field, String target, String ref, boolean add) {
    if (target == null || Schema.NULL_REF.equals(target)) {
      return;
    }
    Map<String, Set<String>> m =
        inverse.computeIfAbsent(key(c) + "." + field, k -> new ConcurrentHashMap<>());
    if (add) {
      m.computeIfAbsent(target, k -> ConcurrentHashMap.newKeySet()).add(ref);
    } else {
      Set<String> s = m.get(target);
      if (s != null) {
        s.remove(ref);
      }
    }
  }

  private void persist(Rec r, boolean delete) {
    if (!persistent) {
      return;
    }
    String json;
    try {
      json = JSON.writeValueAsString(toJson(r.fields));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    QuarkusTransaction.requiringNew()
        .run(
            () -> {
              if (delete) {
                XapiRow.deleteById(r.ref);
                return;
              }
              XapiRow row = XapiRow.findById(r.ref);
              if (row == null) {
                row = new XapiRow();
                row.ref = r.ref;
                row.cls = r.cls.name();
                row.uuid = (String) r.fields.get("uuid");
                row.fields = json;
                row.persist();
              } else {
                row.fields = json;
              }
            });
  }

  private static Map<String, Object> toJson(Map<String, Object> f) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : f.entrySet()) {
      Object v = e.getValue();
      m.put(e.getKey(), v instanceof Instant i ? i.toString() : v);
    }
    return m;
  }

  // ---- reads ----

  private Rec rec(String cls, String ref) throws XenApiException {
    Rec r = ref == null ? null : byRef.get(ref);
    ClassSpec c = Schema.get(cls);
    if (r == null || c == null || r.cls != c) {
      throw new XenApiException("HANDLE_INVALID", c == null ? cls : c.name(), String.valueOf(ref));
    }
    return r;
  }

  public boolean exists(String cls, String ref) {
    Rec r = ref == null ? null : byRef.get(ref);
    return r != null && r.cls == Schema.get(cls);
  }

  /** The class name of a reference, or null. */
  public String classOf(String ref) {
    Rec r = ref == null ? null : byRef.get(ref);
    return r == null ? null : r.cls.name();
  }

  public List<String> all(String cls) {
    Map<String, Rec> m = byClass.get(cls.toLowerCase(java.util.Locale.ROOT));
    return m == null ? List.of() : new ArrayList<>(m.keySet());
  }

  public List<String> find(String cls, Predicate<Map<String, Object>> p) {
    Map<String, Rec> m = byClass.get(cls.toLowerCase(java.util.Locale.ROOT));
    List<String> out = new ArrayList<>();
    if (m != null) {
      for (Rec r : m.values()) {
        synchronized (r) {
          if (p.test(r.fields)) {
            out.add(r.ref);
          }
        }
      }
    }
    return out;
  }

  public String byUuid(String cls, String uuid) throws XenApiException {
    String ref = refByUuid.get(cls.toLowerCase(java.util.Locale.ROOT) + "/" + uuid);
    if (ref == null) {
      throw new XenApiException("UUID_INVALID", Schema.get(cls).name(), String.valueOf(uuid));
    }
    return ref;
  }

  /** The whole record, computed fields included. */
  public Map<String, Object> record(String cls, String ref) throws XenApiException {
    Rec r = rec(cls, ref);
    Map<String, Object> out = new LinkedHashMap<>();
    synchronized (r) {
      for (FieldSpec fs : r.cls.fields()) {
        out.put(fs.name(), fs.computed() ? computed(r, fs) : copy(r.fields.get(fs.name())));
      }
    }
    return out;
  }

  private List<String> computed(Rec r, FieldSpec fs) {
    Map<String, Set<String>> m =
        inverse.get(fs.refClass().toLowerCase(java.util.Locale.ROOT) + "." + fs.inverse());
    Set<String> s = m == null ? null : m.get(r.ref);
    return s == null ? List.of() : new ArrayList<>(s);
  }

  private static Object copy(Object v) {
    if (v instanceof List<?> l) {
      return new ArrayList<>(l);
    }
    if (v instanceof Map<?, ?> m) {
      return new LinkedHashMap<>(m);
    }
    return v;
  }

  public Object field(String cls, String ref, String name) throws XenApiException {
    Rec r = rec(cls, ref);
    FieldSpec fs = r.cls.field(name);
    synchronized (r) {
      return fs.computed() ? computed(r, fs) : copy(r.fields.get(name));
    }
  }

  // ---- writes ----

  /** Creates a record; unset fields get their defaults. Returns its reference. */
  public synchronized String create(String cls, Map<String, Object> values) {
    ClassSpec c = Schema.get(cls);
    String ref = "OpaqueRef:" + UUID.randomUUID();
    Map<String, Object> f = new LinkedHashMap<>();
    for (FieldSpec fs : c.fields()) {
      if (!fs.computed()) {
        Object v = values.get(fs.name());
        f.put(fs.name(), v != null ? copy(v) : fs.defaultValue());
      }
    }
    if (!(values.get("uuid") instanceof String u) || u.isEmpty()) {
      f.put("uuid", UUID.randomUUID().toString());
    }
    Rec r = new Rec(ref, c, f);
    persist(r, false);
    put(r);
    events.record(c.name(), "add", ref, () -> recordOrNull(c.name(), ref));
    for (FieldSpec fs : c.fields()) {
      modRelated(c, fs, f.get(fs.name()));
    }
    return ref;
  }

  /** Sets stored fields of a record. */
  public synchronized void set(String cls, String ref, Map<String, Object> values)
      throws XenApiException {
    Rec r = rec(cls, ref);
    List<Relink> relinked = new ArrayList<>();
    synchronized (r) {
      for (Map.Entry<String, Object> e : values.entrySet()) {
        FieldSpec fs = r.cls.field(e.getKey());
        if (fs == null || fs.computed()) {
          throw new IllegalArgumentException("not a stored field: " + cls + "." + e.getKey());
        }
        if (fs.type() == FieldType.REF) {
          index(r.cls, fs.name(), (String) r.fields.get(fs.name()), ref, false);
          index(r.cls, fs.name(), (String) e.getValue(), ref, true);
          if (!Objects.equals(r.fields.get(fs.name()), e.getValue())) {
            relinked.add(new Relink(fs, r.fields.get(fs.name()), e.getValue()));
          }
        }
        if (fs.name().equals("uuid")) {
          refByUuid.remove(key(r.cls) + "/" + r.fields.get("uuid"));
          refByUuid.put(key(r.cls) + "/" + e.getValue(), ref);
        }
        r.fields.put(fs.name(), copy(e.getValue()));
      }
    }
    persist(r, false);
    for (Relink l : relinked) {
      modRelated(r.cls, l.field(), l.from());
    }
    events.record(r.cls.name(), "mod", ref, () -> recordOrNull(r.cls.name(), ref));
    for (Relink l : relinked) {
      modRelated(r.cls, l.field(), l.to());
    }
  }

  /** A reference field of a record changed by {@link #set}. */
  private record Relink(FieldSpec field, Object from, Object to) {}

  public void set(String cls, String ref, String field, Object value) throws XenApiException {
    Map<String, Object> m = new HashMap<>();
    m.put(field, value);
    set(cls, ref, m);
  }

  public synchronized void destroy(String cls, String ref) throws XenApiException {
    Rec r = rec(cls, ref);
    Map<String, Object> last = record(cls, ref);
    byRef.remove(ref);
    byClass.get(key(r.cls)).remove(ref);
    refByUuid.remove(key(r.cls) + "/" + r.fields.get("uuid"));
    for (FieldSpec fs : r.cls.fields()) {
      if (fs.type() == FieldType.REF) {
        index(r.cls, fs.name(), (String) r.fields.get(fs.name()), ref, false);
      }
    }
    persist(r, true);
    events.record(r.cls.name(), "del", ref, () -> last);
    for (FieldSpec fs : r.cls.fields()) {
      modRelated(r.cls, fs, r.fields.get(fs.name()));
    }
  }

  /**
   * As xapi's event generator: when a reference field that is one end of a relation (VDI.SR, whose
   * other end is SR.VDIs) is set on create, changed, or its record destroyed, the record it points
   * to gets a "mod" event, since its computed set changed. Clients that keep a cache from events
   * (Xen Orchestra) rely on it.
   */
  private void modRelated(ClassSpec c, FieldSpec fs, Object target) {
    if (fs.type() != FieldType.REF || !(target instanceof String t) || !byRef.containsKey(t)) {
      return;
    }
    ClassSpec other = Schema.get(fs.refClass());
    if (other == null) {
      return;
    }
    for (FieldSpec of : other.fields()) {
      if (of.computed() && fs.name().equals(of.inverse()) && c == Schema.get(of.refClass())) {
        events.record(other.name(), "mod", t, () -> recordOrNull(other.name(), t));
        return;
      }
    }
  }

  /** The whole record, or null if it does not exist (or was just destroyed). */
  public Map<String, Object> recordOrNull(String cls, String ref) {
    try {
      return record(cls, ref);
    } catch (XenApiException e) {
      return null;
    }
  }

  /** Number of records per class (event.from's valid_ref_counts). */
  public Map<String, Long> counts(Collection<String> classes) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (String c : classes) {
      ClassSpec cs = Schema.get(c);
      if (cs != null) {
        Map<String, Rec> recs = byClass.get(key(cs));
        m.put(cs.name(), recs == null ? 0L : (long) recs.size());
      }
    }
    return m;
  }

  /** All class names, for '*' subscriptions. */
  public static Set<String> classNames() {
    Set<String> s = new LinkedHashSet<>();
    for (ClassSpec c : Schema.classes()) {
      s.add(c.name());
    }
    return s;
  }
}
