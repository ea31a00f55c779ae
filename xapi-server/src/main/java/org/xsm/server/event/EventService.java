package org.xsm.server.event;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.xsm.server.db.Database;
import org.xsm.server.db.EventLog;
import org.xsm.server.model.Schema;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * xapi's two event interfaces over the database's event log ({@link EventLog}).
 *
 * <ul>
 *   <li>{@code event.from(classes, token, timeout)}: with an empty token, every current object of
 *       the classes as an {@code add} (xapi's answer to a client that knows nothing, also right
 *       after a restart), then from the returned token only the changes, read from the log without
 *       looking at other objects; a token the log cannot answer from is {@code EVENTS_LOST}.
 *   <li>{@code event.register/next/unregister}: a subscription per session, as xapi keeps one;
 *       {@code next} without one is {@code SESSION_NOT_REGISTERED}.
 * </ul>
 */
@ApplicationScoped
public class EventService {
  /** How long one wait of {@code event.next} lasts before it checks its session again. */
  private static final double NEXT_SLICE_SECONDS = 30;

  @Inject Database db;

  /** What a session registered for, and the last event id its {@code next} delivered. */
  private static final class Subscription {
    final Set<String> classes = new LinkedHashSet<>();
    long lastId;

    Subscription(long lastId) {
      this.lastId = lastId;
    }
  }

  private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();

  /**
   * The classes named by an event subscription ('*' = every class), as xapi only those that have
   * events (not session, user, secret: a session's reference is its credential); unknown names are
   * ignored.
   */
  static List<XClass<?>> classes(Collection<String> names) {
    Set<XClass<?>> out = new LinkedHashSet<>();
    for (XClass<?> c : Schema.classes()) {
      if (c.offers(XClass.Generic.EVENTS)
          && (names.contains("*") || names.stream().anyMatch(n -> Schema.get(n) == c))) {
        out.add(c);
      }
    }
    return new ArrayList<>(out);
  }

  private static List<String> classNames(Collection<String> names) {
    List<String> out = new ArrayList<>();
    classes(names).forEach(c -> out.add(c.name()));
    return out;
  }

  /** {@code event.from}: the batch (events, valid_ref_counts, token) as the wire has it. */
  public Map<String, Object> from(
      List<String> names, String token, double timeoutSeconds, SessionProbe session)
      throws XenApiException, InterruptedException {
    List<XClass<?>> classes = classes(names);
    List<Object> wire = new ArrayList<>();
    long last;
    if (token == null || token.isEmpty()) {
      Database.CurrentObjects now = db.currentObjects(classes);
      for (Map.Entry<XClass<?>, String> o : now.refs()) {
        Map<String, Object> record = db.wireRecordOrNull(o.getKey(), o.getValue());
        if (record != null) { // destroyed since: its del event follows the token
          EventLog.Event add =
              new EventLog.Event(now.eventId(), o.getKey().name(), "add", o.getValue(), null);
          wire.add(EventLog.wire(add, record));
        }
      }
      last = now.eventId();
    } else {
      long after = db.events().parse(token);
      List<EventLog.Event> evs =
          db.events().after(classNames(names), after, timeoutSeconds, session::ended);
      session.check(); // logged out while waiting: SESSION_INVALID, as xapi
      wire.addAll(delivered(evs));
      // Nothing new: the same token again (a newer one could skip an event logged meanwhile).
      last = evs.isEmpty() ? after : evs.get(evs.size() - 1).id();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("events", wire);
    Map<String, Object> counts = new LinkedHashMap<>();
    List<String> counted = new ArrayList<>();
    classes.forEach(c -> counted.add(c.name()));
    for (Map.Entry<String, Long> e : db.counts(counted).entrySet()) {
      counts.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue());
    }
    out.put("valid_ref_counts", counts);
    out.put("token", EventLog.token(last));
    return out;
  }

  /**
   * The wire form of logged events: an add or mod carries the record as it is now; an object
   * destroyed since carries, in those, the record its del keeps.
   */
  private List<Map<String, Object>> delivered(List<EventLog.Event> evs) {
    Map<String, Map<String, Object>> deleted = new HashMap<>();
    for (EventLog.Event e : evs) {
      if (e.snapshot() != null && e.operation().equals("del")) {
        deleted.put(e.ref(), e.snapshot());
      }
    }
    List<Map<String, Object>> wire = new ArrayList<>(evs.size());
    for (EventLog.Event e : evs) {
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
    return wire;
  }

  /** {@code event.register}: adds classes to the session's subscription, made now if new. */
  public void register(String session, List<String> names) {
    Subscription s =
        subscriptions.computeIfAbsent(session, k -> new Subscription(db.events().lastId()));
    synchronized (s) {
      for (String n : names) {
        s.classes.add(n.toLowerCase(Locale.ROOT));
      }
    }
  }

  /** {@code event.unregister}: removes classes; the subscription stays (empty) as in xapi. */
  public void unregister(String session, List<String> names) {
    Subscription s = subscriptions.get(session);
    if (s != null) {
      synchronized (s) {
        for (String n : names) {
          s.classes.remove(n.toLowerCase(Locale.ROOT));
        }
      }
    }
  }

  /**
   * {@code event.next}: the events of the registered classes since the previous call, waiting until
   * there is one. {@code stillValid} is asked between waits, so a session logged out meanwhile ends
   * the wait with its error.
   */
  public List<Map<String, Object>> next(String session, SessionProbe stillValid)
      throws XenApiException, InterruptedException {
    while (true) {
      Subscription s = subscriptions.get(session);
      if (s == null) {
        throw new XenApiException(XenApiError.SESSION_NOT_REGISTERED, session);
      }
      List<String> names;
      long after;
      synchronized (s) {
        names = new ArrayList<>(s.classes);
        after = s.lastId;
      }
      List<EventLog.Event> evs;
      try {
        evs = db.events().after(classNames(names), after, NEXT_SLICE_SECONDS, stillValid::ended);
      } catch (XenApiException lost) {
        synchronized (s) { // as xapi: the subscription goes on from now
          s.lastId = db.events().lastId();
        }
        throw lost;
      }
      if (!evs.isEmpty()) {
        synchronized (s) {
          s.lastId = Math.max(s.lastId, evs.get(evs.size() - 1).id());
        }
        return delivered(evs);
      }
      stillValid.check();
    }
  }

  /** Drops a session's subscription (its session ended). */
  public void forget(String session) {
    subscriptions.remove(session);
  }

  /** The caller's session, as a waiting call sees it. */
  public interface SessionProbe {
    /** Throws the session's XenAPI error if it is no longer valid. */
    void check() throws XenApiException;

    /**
     * Whether the session has ended (logged out): asked under the event log's lock at each new
     * event, so it must take no lock of the database's.
     */
    boolean ended();
  }
}
