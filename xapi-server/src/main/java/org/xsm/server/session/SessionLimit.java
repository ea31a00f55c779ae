package org.xsm.server.session;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * At most {@code max} sessions per user, as xapi caps them: a login beyond the cap ends that user's
 * oldest session. Kept per user in creation order, so a login costs the same however many sessions
 * the host has.
 */
final class SessionLimit {
  private final int max;
  private final Map<String, ArrayDeque<String>> byUser = new HashMap<>();

  SessionLimit(int max) {
    this.max = max;
  }

  /** Records a new session; the sessions it pushes out, oldest first. */
  synchronized List<String> opened(String user, String ref) {
    ArrayDeque<String> q = byUser.computeIfAbsent(user, u -> new ArrayDeque<>());
    q.addLast(ref);
    List<String> out = new ArrayList<>();
    while (q.size() > max) {
      out.add(q.pollFirst());
    }
    return out;
  }

  synchronized void closed(String user, String ref) {
    ArrayDeque<String> q = byUser.get(user);
    if (q != null) {
      q.remove(ref);
      if (q.isEmpty()) {
        byUser.remove(user);
      }
    }
  }
}
