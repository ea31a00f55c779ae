package org.xsm.server.db;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.xsm.server.model.Field;
import org.xsm.server.model.XClass;

/**
 * The durable image of the records (table {@code xapi_object}, one row of JSON per object), and the
 * unit of work that writes it: inside a XenAPI call ({@link #begin}/{@link #end}) the records a
 * call changed are only marked, and written in one transaction when the call ends, before its
 * answer is sent; outside a call each change is written at once.
 *
 * <p>Crash safety: the in-memory records are the truth while the server runs; a flush writes each
 * marked record's state as it is at flush time (flushes are serialized, so a later flush never
 * writes an older state than an earlier one). A crash before a call's flush loses that call's
 * record changes together, as if it had failed before its answer: the storage it touched is
 * reconciled by the scan at the next start.
 */
final class Store {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a flush needs of a record: its class and stored fields, or null once destroyed. */
  record Image(XClass<?> cls, String uuid, Map<String, Object> fields) {}

  private static final class Call {
    int depth;
    final Set<String> dirty = new HashSet<>();
  }

  /** A stored record as read back: its reference, class name and fields as JSON. */
  record Row(String ref, String cls, String fields) {}

  private static final String DELETE = "DELETE FROM xapi_object WHERE ref = ?";

  private final Supplier<Sql> sql;
  private final ThreadLocal<Call> call = new ThreadLocal<>();
  private final Object flushLock = new Object();
  private volatile boolean persistent = true;

  /** Why this server must not write records now (it is not the pool's master), or null. */
  private volatile String fenced;

  Store(Supplier<Sql> sql) {
    this.sql = sql;
  }

  void setPersistent(boolean p) {
    persistent = p;
  }

  void fence(String why) {
    fenced = why;
  }

  /** Starts (or nests in) the unit of work of a call on this thread. */
  void begin() {
    Call c = call.get();
    if (c == null) {
      c = new Call();
      call.set(c);
    }
    c.depth++;
  }

  /** Ends it; the outermost end writes what the call changed, in one transaction. */
  void end(Function<String, Image> images) {
    Call c = call.get();
    if (c == null) {
      return;
    }
    if (--c.depth > 0) {
      return;
    }
    call.remove();
    write(c.dirty, images);
  }

  /** A record changed: written at the end of the call, or now outside one. */
  void changed(String ref, Function<String, Image> images) {
    Call c = call.get();
    if (c != null) {
      c.dirty.add(ref);
    } else {
      write(Set.of(ref), images);
    }
  }

  private void write(Collection<String> refs, Function<String, Image> images) {
    if (!persistent || refs.isEmpty()) {
      return;
    }
    String why = fenced;
    if (why != null) {
      // A change this server may not write must not be acknowledged either: the call fails.
      throw new IllegalStateException("records cannot be written here: " + why);
    }
    synchronized (flushLock) {
      sql.get()
          .tx(
              c -> {
                try (PreparedStatement del = c.prepareStatement(DELETE);
                    PreparedStatement up =
                        c.prepareStatement(
                            sql.get()
                                .kind()
                                .upsert("xapi_object", "ref", "cls", "uuid", "fields"))) {
                  for (String ref : refs) {
                    Image img = images.apply(ref);
                    if (img == null) {
                      del.setString(1, ref);
                      del.addBatch();
                    } else {
                      up.setString(1, ref);
                      up.setString(2, img.cls().name());
                      up.setString(3, img.uuid());
                      up.setString(4, toJson(img.fields()));
                      up.addBatch();
                    }
                  }
                  del.executeBatch();
                  up.executeBatch();
                }
                return null;
              });
    }
  }

  private static String toJson(Map<String, Object> f) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : f.entrySet()) {
      Object v = e.getValue();
      m.put(e.getKey(), v instanceof Instant i ? i.toString() : v);
    }
    try {
      return JSON.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a record as JSON", e);
    }
  }

  /** Every stored record (at start). */
  List<Row> loadAll() {
    return sql.get()
        .tx(
            c -> {
              List<Row> rows = new ArrayList<>();
              try (Statement st = c.createStatement();
                  ResultSet rs = st.executeQuery("SELECT ref, cls, fields FROM xapi_object")) {
                while (rs.next()) {
                  rows.add(new Row(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
              }
              return rows;
            });
  }

  /** A row's stored fields, typed as the schema says; fields it lacks get their defaults. */
  static Map<String, Object> fromJson(XClass<?> c, Row r) {
    Map<String, Object> raw;
    try {
      raw = JSON.readValue(r.fields(), new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("damaged record " + r.ref() + " in the database", e);
    }
    Map<String, Object> f = new LinkedHashMap<>();
    for (Field<?, ?> fs : c.fields()) {
      if (!fs.computed()) {
        Object v = raw.get(fs.name());
        f.put(
            fs.name(),
            v == null
                ? fs.defaultValue()
                : switch (fs.type()) {
                  case INT -> ((Number) v).longValue();
                  case FLOAT -> ((Number) v).doubleValue();
                  case DATETIME -> Instant.parse((String) v);
                  default -> v;
                });
      }
    }
    return f;
  }
}
