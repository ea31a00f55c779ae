package org.xsm.server.event;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.db.Database;
import org.xsm.server.db.EventLog;
import org.xsm.server.model.Schema;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/** {@code event.from} (blocking, with tokens and valid_ref_counts) and {@code event.inject}. */
@ApplicationScoped
public class EventMessages implements RpcModule {
  @Inject Database db;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "event.from",
        4,
        true,
        false,
        (ctx, a) -> {
          List<String> classes = Params.strings(a.get(0), "classes");
          String token = Params.str(a, 1);
          double timeout = Math.min(Params.dbl(a.get(2), "timeout"), 3600);
          List<EventLog.Event> evs;
          try {
            evs = db.events().from(classes, token, timeout);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new XenApiException(XenApiError.EVENT_FROM_FAILED, "interrupted");
          }
          List<Object> wire = new ArrayList<>();
          long last = 0;
          // An object destroyed since its add or mod shows, in those, the record its del keeps.
          Map<String, Map<String, Object>> deleted = new java.util.HashMap<>();
          for (EventLog.Event e : evs) {
            if (e.snapshot() != null && e.operation().equals("del")) {
              deleted.put(e.ref(), e.snapshot());
            }
          }
          for (EventLog.Event e : evs) {
            last = Math.max(last, e.id());
            Map<String, Object> snapshot = e.snapshot();
            if (snapshot == null) {
              XClass<?> c = Schema.get(e.cls());
              snapshot = c == null ? null : db.wireRecordOrNull(c, e.ref());
            }
            if (snapshot == null) {
              snapshot = deleted.get(e.ref());
            }
            wire.add(EventLog.wire(e, snapshot));
          }
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("events", wire);
          List<String> counted =
              classes.contains("*") ? new ArrayList<>(Database.classNames()) : classes;
          Map<String, Object> counts = new LinkedHashMap<>();
          for (Map.Entry<String, Long> e : db.counts(counted).entrySet()) {
            counts.put(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue());
          }
          out.put("valid_ref_counts", counts);
          out.put("token", last > 0 ? EventLog.token(last) : db.events().currentToken());
          return out;
        });
    d.register(
        "event.inject",
        3,
        true,
        false,
        (ctx, a) -> {
          String cls = Params.str(a, 0);
          String ref = Params.str(a, 1);
          XClass<?> c = Schema.get(cls);
          if (c == null || db.classOf(ref) != c) {
            throw new XenApiException(XenApiError.HANDLE_INVALID, cls, ref);
          }
          db.events().inject(c.name(), ref, db.wireRecord(c, ref));
          return db.events().currentToken();
        });
  }
}
