package org.xsm.server.session;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * Slows down password guessing, per user and source address: the first {@value #FREE_FAILURES}
 * failures cost nothing; after that each attempt must wait twice as long as the last since the
 * latest failure (1 s, 2 s, 4 s... up to 30 s), and after {@value #LOCK_AFTER} failures logins of
 * that user from that address are locked for five minutes (logged). A refused attempt does not
 * check the password at all. A success clears the record. Time comes from an injectable clock.
 */
@ApplicationScoped
public class LoginThrottle {
  private static final Logger LOG = Logger.getLogger(LoginThrottle.class);
  static final int FREE_FAILURES = 3;
  static final int LOCK_AFTER = 10;
  static final long LOCK_MS = 5 * 60_000;
  static final long MAX_DELAY_MS = 30_000;
  private static final int MAX_ENTRIES = 10_000;

  private record Key(String user, String source) {}

  private static final class State {
    int failures;
    long lastFailure;
    long lockedUntil;
  }

  private final Map<Key, State> states = new ConcurrentHashMap<>();
  private volatile LongSupplier clock = System::currentTimeMillis;

  /** Tests: the clock the delays are measured with. */
  public void setClock(LongSupplier clock) {
    this.clock = clock;
  }

  /** Refuses the attempt if this user must wait or is locked out from this address. */
  public void check(String user, String source) throws XenApiException {
    State s = states.get(new Key(user, source));
    if (s == null) {
      return;
    }
    long now = clock.getAsLong();
    synchronized (s) {
      if (s.lockedUntil > now) {
        throw refused(
            user,
            "locked after repeated failures; try again in " + seconds(s.lockedUntil - now) + " s");
      }
      if (s.failures >= FREE_FAILURES) {
        long wait = delay(s.failures);
        if (now - s.lastFailure < wait) {
          throw refused(
              user,
              "too many failures; try again in " + seconds(s.lastFailure + wait - now) + " s");
        }
      }
    }
  }

  static long delay(int failures) {
    int n = Math.min(failures - FREE_FAILURES, 16);
    return Math.min(MAX_DELAY_MS, 1000L << n);
  }

  private static long seconds(long ms) {
    return Math.max(1, (ms + 999) / 1000);
  }

  private static XenApiException refused(String user, String why) {
    return new XenApiException(XenApiError.SESSION_AUTHENTICATION_FAILED, user, why);
  }

  public void failed(String user, String source) {
    if (states.size() > MAX_ENTRIES) {
      long old = clock.getAsLong() - LOCK_MS;
      states.values().removeIf(s -> s.lastFailure < old && s.lockedUntil < old);
    }
    State s = states.computeIfAbsent(new Key(user, source), k -> new State());
    long now = clock.getAsLong();
    synchronized (s) {
      s.failures++;
      s.lastFailure = now;
      if (s.failures >= LOCK_AFTER && s.lockedUntil <= now) {
        s.lockedUntil = now + LOCK_MS;
        LOG.warnf(
            "Logins of %s from %s locked for %d s after %d failed attempts",
            user, source, LOCK_MS / 1000, s.failures);
      }
    }
  }

  public void succeeded(String user, String source) {
    states.remove(new Key(user, source));
  }
}
