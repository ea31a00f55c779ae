package org.xsm.server.db;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.xsm.server.model.Schema;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * The change log behind {@code event.from}: every add, mod and del with an increasing id. A token
 * is the id of the last event seen, printed as {@code %020d,%020d} (compared as strings, as xapi
 * does); {@link #from} blocks until a newer event of an asked class arrives or the timeout ends.
 * The log keeps the last {@value #CAPACITY} events; an older token gets {@code EVENTS_LOST}.
 *
 * <p>The log is in memory. So that a token from before a restart is never taken for a recent one,
 * each start numbers its events from the start time in microseconds: a token from an earlier run is
 * below the first id of this one (a run would need over a thousand events per millisecond, on
 * average, to overtake the clock) and gets {@code EVENTS_LOST}, after which clients start again
 * from an empty token (which gives every current object: {@code Database.currentObjects}).
 */
public final class EventLog {
  static final int CAPACITY = 100_000;

  /**
   * One change. Only a del keeps a snapshot (the record as it was); for add and mod the record is
   * read when the event is delivered, as xapi's event.from gives the current record: the log holds
   * no copies of records (a 10,000-VDI SR's VDIs list is not copied into every SR event), and a
   * write costs no copy of its record.
   */
  public record Event(
      long id, String cls, String operation, String ref, Map<String, Object> snapshot) {}

  /**
   * The last {@value #CAPACITY} events as a ring: the event with id {@code k} is at {@code (k - 1)
   * % CAPACITY}, so {@link #from} starts at the first event a token has not seen without walking
   * the older ones: its cost is the number of new events, not the size of the log.
   */
  private final Event[] ring = new Event[CAPACITY];

  /** The id before this run's first event. */
  private final long base;

  private long last;

  public EventLog() {
    this(System.currentTimeMillis() * 1000);
  }

  EventLog(long base) {
    this.base = base;
    this.last = base;
  }

  /** An add or mod: its record is read when the event is delivered. */
  synchronized void record(String cls, String op, String ref) {
    if (hasEvents(cls)) {
      append(cls, op, ref, null);
    }
  }

  /** An add or mod carrying the record as it was then (delivered as is). */
  synchronized void recordWithSnapshot(
      String cls, String op, String ref, Map<String, Object> snapshot) {
    if (hasEvents(cls)) {
      append(cls, op, ref, snapshot);
    }
  }

  /** A del, with the record as it was. */
  synchronized void recordDeletion(String cls, String ref, Map<String, Object> last) {
    if (hasEvents(cls)) {
      append(cls, "del", ref, last);
    } else {
      // No event (a session, a secret), but waiting calls look again: a logged-out session's
      // event.from ends with SESSION_INVALID at once.
      notifyAll();
    }
  }

  /** Classes declared without events (user and secret, as xapi) make none. */
  private static boolean hasEvents(String cls) {
    XClass<?> c = Schema.get(cls);
    return c == null || c.offers(XClass.Generic.EVENTS);
  }

  public synchronized void inject(String cls, String ref, Map<String, Object> snapshot) {
    if (hasEvents(cls)) {
      append(cls, "mod", ref, snapshot);
    }
  }

  private void append(String cls, String op, String ref, Map<String, Object> snapshot) {
    last++;
    ring[(int) ((last - 1) % CAPACITY)] = new Event(last, cls, op, ref, snapshot);
    notifyAll();
  }

  /** The oldest id still held. */
  private long oldest() {
    return Math.max(base + 1, last - CAPACITY + 1);
  }

  /** The newest event id (this run's base when none happened yet). */
  public synchronized long lastId() {
    return last;
  }

  public static String token(long id) {
    return String.format(Locale.ROOT, "%020d,%020d", id, 0);
  }

  /**
   * The event id a token names. A token this log cannot answer from (too old, from an earlier run,
   * or not yet issued) is {@code EVENTS_LOST}, as xapi says when it cannot give the changes since a
   * token.
   */
  public synchronized long parse(String token) throws XenApiException {
    long id;
    try {
      id = Long.parseLong(token.split(",")[0].trim());
    } catch (NumberFormatException e) {
      throw new XenApiException(XenApiError.EVENT_FROM_TOKEN_PARSE_FAILURE, token);
    }
    if (id < oldest() - 1 || id > last) {
      throw new XenApiException(XenApiError.EVENTS_LOST);
    }
    return id;
  }

  /** The current token (the newest event id). */
  public synchronized String currentToken() {
    return token(last);
  }

  /**
   * Events after id {@code after} for the given classes ('*' = all), waiting up to {@code
   * timeoutSeconds} for at least one; {@code EVENTS_LOST} once the log no longer holds them.
   */
  public synchronized List<Event> after(
      Collection<String> classes, long after, double timeoutSeconds)
      throws XenApiException, InterruptedException {
    return after(classes, after, timeoutSeconds, () -> false);
  }

  /**
   * As {@link #after(Collection, long, double)}, but also ending the wait (with no events) as soon
   * as {@code stop} holds, which it is asked at each new event of any class (a session's logout is
   * one).
   */
  public synchronized List<Event> after(
      Collection<String> classes,
      long after,
      double timeoutSeconds,
      java.util.function.BooleanSupplier stop)
      throws XenApiException, InterruptedException {
    Set<String> want =
        classes.stream().map(c -> c.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
    boolean all = want.contains("*");
    long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
    while (true) {
      if (after < oldest() - 1) {
        throw new XenApiException(XenApiError.EVENTS_LOST);
      }
      List<Event> out = new ArrayList<>();
      for (long id = Math.max(after + 1, oldest()); id <= last; id++) {
        Event e = ring[(int) ((id - 1) % CAPACITY)];
        if (all || want.contains(e.cls().toLowerCase(Locale.ROOT))) {
          out.add(e);
        }
      }
      long wait = deadline - System.nanoTime();
      if (!out.isEmpty() || wait <= 0 || stop.getAsBoolean()) {
        return out;
      }
      after = Math.max(after, last);
      wait(Math.max(1, wait / 1_000_000));
    }
  }

  /** The wire form of an event, with the record it carries. */
  public static Map<String, Object> wire(Event e, Map<String, Object> snapshot) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", e.id());
    m.put("timestamp", String.valueOf(e.id()));
    m.put("class", e.cls().toLowerCase(Locale.ROOT));
    m.put("operation", e.operation());
    m.put("ref", e.ref());
    Object uuid = snapshot == null ? null : snapshot.get("uuid");
    m.put("obj_uuid", uuid == null ? "" : uuid);
    if (snapshot != null) {
      m.put("snapshot", snapshot);
    }
    return m;
  }
}
