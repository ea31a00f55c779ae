package org.xsm.server.db;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.xsm.server.model.Field;
import org.xsm.server.model.FieldType;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Schema;
import org.xsm.server.model.Task;
import org.xsm.server.model.Values;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * The XenAPI object database, as xapi keeps its own: every record in memory (reads never touch the
 * disk), written through to the database (H2 or PostgreSQL, {@link Sql}) once per call ({@link
 * Store}), and recorded in an event log for {@code event.from}. Reads and writes are typed by the
 * model ({@code db.get(vm, Vm.POWER_STATE)}); the "many" side of each relation (VM.VBDs) and
 * lookups by indexed fields come from indexes, so no request path scans a class.
 *
 * <p>Thread-safety: writers serialize on the database, so a read-modify-write done with {@link
 * #modify} is atomic; readers see each record consistent (copied under its lock). A change that
 * sets the values a record already has is not written and makes no event.
 */
@ApplicationScoped
public class Database {
  /** A change computed from the current record, applied atomically ({@link #modify}). */
  @FunctionalInterface
  public interface Mutation<C> {
    Values<C> apply(Row<C> current) throws XenApiException;
  }

  private final Map<String, Rec> byRef = new ConcurrentHashMap<>();
  private final Map<XClass<?>, Map<String, Rec>> byClass = new ConcurrentHashMap<>();
  private final Indexes indexes = new Indexes();
  private final EventLog events = new EventLog();
  @Inject Sql sql;
  private final Store store = new Store(() -> sql);

  public EventLog events() {
    return events;
  }

  /** Loads every persisted record (at startup). */
  public synchronized void load() {
    for (Store.Row r : store.loadAll()) {
      XClass<?> c = Schema.get(r.cls());
      if (c != null) {
        Map<String, Object> f = Store.fromJson(c, r);
        f.replaceAll((k, v) -> frozen(v));
        put(new Rec(r.ref(), c, f));
      }
    }
  }

  /**
   * Forgets the records in memory and loads them again from the database (a pool member becoming
   * the master: the pool's records are in the database, written by the master before each answer).
   * Events logged before stay logged; clients re-read after a master change anyway.
   */
  public synchronized void reload() {
    byRef.clear();
    byClass.clear();
    indexes.clear();
    load();
  }

  /**
   * Forgets the records in memory without touching the database (a host that joins a pool or hands
   * the master's role over: the database is the new master's from then on).
   */
  public synchronized void forgetAll() {
    byRef.clear();
    byClass.clear();
    indexes.clear();
  }

  /**
   * Stops (with {@code why}) or allows again ({@code null}) every write of records: a pool member
   * never writes behind the master's back, and a master handing its role over stops writing before
   * the new master loads. A change that cannot be written fails its call rather than being
   * acknowledged.
   */
  public void fence(String why) {
    store.fence(why);
  }

  /** Deletes every stored record (a host ejected from a pool starts afresh). */
  public void eraseStored() {
    sql.tx(
        c -> {
          try (java.sql.Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM xapi_object");
            s.executeUpdate("DELETE FROM xapi_blob");
          }
          return null;
        });
  }

  /** Used by tests and benchmarks that need no durability. */
  public void setPersistent(boolean p) {
    store.setPersistent(p);
  }

  /** Starts the unit of work of a XenAPI call on this thread (nests). */
  public void beginCall() {
    store.begin();
  }

  /** Ends it: what the call changed is written in one transaction. */
  public void endCall() {
    store.end(this::image);
  }

  private Store.Image image(String ref) {
    Rec r = byRef.get(ref);
    if (r == null) {
      return null;
    }
    synchronized (r) {
      return new Store.Image(r.cls, (String) r.fields.get("uuid"), new LinkedHashMap<>(r.fields));
    }
  }

  private void put(Rec r) {
    byRef.put(r.ref, r);
    byClass.computeIfAbsent(r.cls, k -> new ConcurrentHashMap<>()).put(r.ref, r);
    indexes.addAll(r);
  }

  // ---- reads ----

  private Rec rec(XClass<?> c, String ref) throws XenApiException {
    Rec r = ref == null ? null : byRef.get(ref);
    if (r == null || r.cls != c) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, c.name(), String.valueOf(ref));
    }
    return r;
  }

  public <C> boolean exists(XClass<C> c, Ref<C> ref) {
    Rec r = ref == null ? null : byRef.get(ref.value());
    return r != null && r.cls == c;
  }

  /** The class of a reference, or null. */
  public XClass<?> classOf(String ref) {
    Rec r = ref == null ? null : byRef.get(ref);
    return r == null ? null : r.cls;
  }

  public <C> List<Ref<C>> all(XClass<C> c) {
    Map<String, Rec> m = byClass.get(c);
    List<Ref<C>> out = new ArrayList<>();
    if (m != null) {
      m.keySet().forEach(k -> out.add(Ref.of(k)));
    }
    return out;
  }

  /** The only record of a class that has one (the pool, this host), or the null reference. */
  public <C> Ref<C> first(XClass<C> c) {
    Map<String, Rec> m = byClass.get(c);
    return m == null || m.isEmpty() ? Ref.nullRef() : Ref.of(m.keySet().iterator().next());
  }

  /** The records whose indexed field {@code f} has {@code value}; a lookup, not a scan. */
  public <C, T> List<Ref<C>> where(Field<C, T> f, T value) {
    if (!f.indexed()) {
      throw new IllegalArgumentException(f + " is not indexed");
    }
    List<Ref<C>> out = new ArrayList<>();
    for (String ref : indexes.lookup(f, f.encode(value))) {
      out.add(Ref.of(ref));
    }
    return out;
  }

  /**
   * The records of a class that pass {@code p}, by reading every one: for startup and maintenance
   * only, never on a request path.
   */
  public <C> List<Ref<C>> fullScan(XClass<C> c, Predicate<Row<C>> p) {
    List<Ref<C>> out = new ArrayList<>();
    for (Ref<C> ref : all(c)) {
      Row<C> row = readOrNull(c, ref);
      if (row != null && p.test(row)) {
        out.add(ref);
      }
    }
    return out;
  }

  public <C> Ref<C> byUuid(XClass<C> c, String uuid) throws XenApiException {
    List<Ref<C>> found = where(uuidField(c), uuid);
    if (found.isEmpty()) {
      throw new XenApiException(XenApiError.UUID_INVALID, c.name(), String.valueOf(uuid));
    }
    return found.get(0);
  }

  @SuppressWarnings("unchecked")
  private static <C> Field<C, String> uuidField(XClass<C> c) {
    return (Field<C, String>) c.field("uuid");
  }

  /** The record as it is now. */
  public <C> Row<C> read(XClass<C> c, Ref<C> ref) throws XenApiException {
    Rec r = rec(c, ref == null ? null : ref.value());
    synchronized (r) {
      return new DbRow<>(this, c, ref, new LinkedHashMap<>(r.fields));
    }
  }

  /** The record, or null if it does not exist (or was just destroyed). */
  public <C> Row<C> readOrNull(XClass<C> c, Ref<C> ref) {
    try {
      return read(c, ref);
    } catch (XenApiException e) {
      return null;
    }
  }

  public <C, T> T get(Ref<C> ref, Field<C, T> f) throws XenApiException {
    Rec r = rec(f.owner(), ref == null ? null : ref.value());
    if (f.computed()) {
      return f.decode(inverse(f, r.ref));
    }
    synchronized (r) {
      return f.decode(r.fields.get(f.name()));
    }
  }

  /** The computed side of a relation, from the index of the field pointing back. */
  List<String> inverse(Field<?, ?> f, String ref) {
    XClass<?> other = Schema.get(f.refClass());
    Field<?, ?> back = other == null ? null : other.field(f.inverseOf());
    return back == null ? List.of() : indexes.lookup(back, ref);
  }

  /** The wire form of the whole record, computed fields included. */
  public Map<String, Object> wireRecord(XClass<?> c, String ref) throws XenApiException {
    Rec r = rec(c, ref);
    Map<String, Object> out = new LinkedHashMap<>();
    synchronized (r) {
      for (Field<?, ?> fs : r.cls.fields()) {
        out.put(fs.name(), fs.computed() ? inverse(fs, ref) : r.fields.get(fs.name()));
      }
    }
    return out;
  }

  /** The wire record, or null if it does not exist (or was just destroyed). */
  public Map<String, Object> wireRecordOrNull(XClass<?> c, String ref) {
    try {
      return wireRecord(c, ref);
    } catch (XenApiException e) {
      return null;
    }
  }

  /** The wire form of one field. */
  public Object wireField(XClass<?> c, String ref, String name) throws XenApiException {
    Rec r = rec(c, ref);
    Field<?, ?> fs = c.field(name);
    if (fs.computed()) {
      return inverse(fs, ref);
    }
    synchronized (r) {
      return r.fields.get(name);
    }
  }

  /**
   * A stored value as kept: lists and maps are immutable copies, so reads hand them out without
   * copying (a 10,000-record get_all_records copies nothing) and no reader can change a record.
   */
  static Object frozen(Object v) {
    if (v instanceof List<?> l) {
      return List.copyOf(l);
    }
    if (v instanceof Map<?, ?> m) {
      return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }
    return v;
  }

  // ---- writes ----

  /** Creates a record; unset fields get their defaults, and a new UUID unless one is given. */
  public synchronized <C> Ref<C> create(XClass<C> c, Values<C> values) {
    String ref = "OpaqueRef:" + UUID.randomUUID();
    Map<String, Object> f = new LinkedHashMap<>();
    Map<String, Object> given = values.stored();
    for (Field<?, ?> fs : c.fields()) {
      if (!fs.computed()) {
        Object v = given.get(fs.name());
        f.put(fs.name(), frozen(v != null ? v : fs.defaultValue()));
      }
    }
    if (!(given.get("uuid") instanceof String u) || u.isEmpty()) {
      f.put("uuid", UUID.randomUUID().toString());
    }
    Rec r = new Rec(ref, c, f);
    put(r);
    store.changed(ref, this::image);
    if (c == Task.CLASS) {
      events.recordWithSnapshot(c.name(), "add", ref, wireRecordOrNull(c, ref));
    } else {
      events.record(c.name(), "add", ref);
    }
    for (Field<?, ?> fs : c.fields()) {
      modRelated(c, fs, f.get(fs.name()));
    }
    return Ref.of(ref);
  }

  public <C, T> void set(Ref<C> ref, Field<C, T> f, T value) throws XenApiException {
    update(f.owner(), ref, Values.of(f.owner()).with(f, value));
  }

  /**
   * Sets stored fields of a record. Fields whose value does not change are left alone; when none
   * changes, nothing is written and no event is sent.
   *
   * @return whether anything changed
   */
  public synchronized <C> boolean update(XClass<C> c, Ref<C> ref, Values<C> values)
      throws XenApiException {
    Rec r = rec(c, ref == null ? null : ref.value());
    List<Relink> relinked = new ArrayList<>();
    boolean changed = false;
    synchronized (r) {
      for (Map.Entry<String, Object> e : values.stored().entrySet()) {
        Field<?, ?> fs = c.field(e.getKey());
        Object old = r.fields.get(fs.name());
        Object now = e.getValue() == null ? fs.defaultValue() : e.getValue();
        if (Objects.equals(old, now)) {
          continue;
        }
        changed = true;
        indexes.move(fs, old, now, r.ref);
        if (fs.type() == FieldType.REF) {
          relinked.add(new Relink(fs, old, now));
        }
        r.fields.put(fs.name(), frozen(now));
      }
    }
    if (!changed) {
      return false;
    }
    store.changed(r.ref, this::image);
    for (Relink l : relinked) {
      modRelated(c, l.field(), l.from());
    }
    if (c == Task.CLASS) {
      // A task's record as it is now: its progress changes faster than watchers read, and each
      // value is worth seeing (the other classes' events read the record at delivery).
      events.recordWithSnapshot(c.name(), "mod", r.ref, wireRecord(c, r.ref));
    } else {
      events.record(c.name(), "mod", r.ref);
    }
    for (Relink l : relinked) {
      modRelated(c, l.field(), l.to());
    }
    return true;
  }

  /**
   * Reads a record and changes it in one atomic step: no other write to the database can come
   * between the read and the write (add_to_other_config from 16 clients loses nothing).
   */
  public synchronized <C> boolean modify(XClass<C> c, Ref<C> ref, Mutation<C> m)
      throws XenApiException {
    Values<C> v = m.apply(read(c, ref));
    return v != null && update(c, ref, v);
  }

  /** A reference field changed by {@link #update}. */
  private record Relink(Field<?, ?> field, Object from, Object to) {}

  public synchronized <C> void destroy(XClass<C> c, Ref<C> ref) throws XenApiException {
    Rec r = rec(c, ref == null ? null : ref.value());
    Map<String, Object> last = wireRecord(c, r.ref);
    byRef.remove(r.ref);
    byClass.get(c).remove(r.ref);
    indexes.removeAll(r);
    store.changed(r.ref, this::image);
    events.recordDeletion(c.name(), r.ref, last);
    for (Field<?, ?> fs : c.fields()) {
      modRelated(c, fs, r.fields.get(fs.name()));
    }
  }

  /**
   * As xapi's event generator: when a reference field that is one end of a relation (VDI.SR, whose
   * other end is SR.VDIs) is set on create, changed, or its record destroyed, the record it points
   * to gets a "mod" event, since its computed set changed. Clients that keep a cache from events
   * (Xen Orchestra) rely on it.
   */
  private void modRelated(XClass<?> c, Field<?, ?> fs, Object target) {
    if (fs.type() != FieldType.REF || !(target instanceof String t) || !byRef.containsKey(t)) {
      return;
    }
    XClass<?> other = Schema.get(fs.refClass());
    if (other == null) {
      return;
    }
    for (Field<?, ?> of : other.fields()) {
      if (of.computed() && fs.name().equals(of.inverseOf()) && c == Schema.get(of.refClass())) {
        events.record(other.name(), "mod", t);
        return;
      }
    }
  }

  /** The references of some classes at one instant, and the last event id at that instant. */
  public record CurrentObjects(long eventId, List<Map.Entry<XClass<?>, String>> refs) {}

  /**
   * Every record of {@code classes} as of one event id: what {@code event.from} with an empty token
   * answers (as xapi, every current object, then the changes after that id). One pass over the
   * classes' references, taken under the writers' lock so that no change falls between the list and
   * the id; the records themselves are read afterwards by the caller (a change made meanwhile is
   * also a later event, so the client ends up with the newest record either way).
   */
  public synchronized CurrentObjects currentObjects(Collection<XClass<?>> classes) {
    List<Map.Entry<XClass<?>, String>> out = new ArrayList<>();
    for (XClass<?> c : classes) {
      Map<String, Rec> m = byClass.get(c);
      if (m != null) {
        m.keySet().forEach(ref -> out.add(Map.entry(c, ref)));
      }
    }
    return new CurrentObjects(events.lastId(), out);
  }

  /** Number of records per class (event.from's valid_ref_counts). */
  public Map<String, Long> counts(Collection<String> classes) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (String n : classes) {
      XClass<?> cs = Schema.get(n);
      if (cs != null) {
        Map<String, Rec> recs = byClass.get(cs);
        m.put(cs.name(), recs == null ? 0L : (long) recs.size());
      }
    }
    return m;
  }

  /** All class names, for '*' subscriptions. */
  public static Set<String> classNames() {
    Set<String> s = new java.util.LinkedHashSet<>();
    for (XClass<?> c : Schema.classes()) {
      s.add(c.name());
    }
    return s;
  }
}
