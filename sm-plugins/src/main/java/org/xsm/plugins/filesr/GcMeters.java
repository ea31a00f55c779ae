package org.xsm.plugins.filesr;

import org.xsm.api.GcBacklog;
import org.xsm.api.GcCounters;

/**
 * An attached SR's collector state outside any one pass: cumulative counters ({@link GcCounters}),
 * the backlog as last measured ({@link GcBacklog}, from the same {@link VhdTree} the collector acts
 * on), nodes skipped for lack of space, per-leaf back-off of put-off leaf-coalesces, the trackers
 * of running leaf-coalesces, and the progress listener.
 *
 * <p>Thread-safety: updated by the collector and the SR's operations, read by anyone; reads never
 * block on I/O.
 */
final class GcMeters {
  /** A final leaf-coalesce switch should keep a VDI's I/O paused no longer than this. */
  static final long PAUSE_BUDGET_NANOS = 100_000_000L;

  private static final long FIRST_BACKOFF_NANOS = 10_000_000_000L;
  private static final long MAX_BACKOFF_NANOS = 300_000_000_000L;

  private GcCounters counters = GcCounters.NONE;
  private volatile GcBacklog backlog = GcBacklog.NONE;

  /** Leaves whose leaf-coalesce was put off: when to try again, and the current back-off. */
  private record Backoff(long dueNanos, long stepNanos) {}

  private final java.util.Map<String, Backoff> deferred = new java.util.HashMap<>();

  private final java.util.Set<String> noSpace = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final java.util.Map<String, LeafWriteTracker> trackers =
      new java.util.concurrent.ConcurrentHashMap<>();
  private volatile java.util.function.DoubleConsumer listener = f -> {};

  void listen(java.util.function.DoubleConsumer l) {
    listener = l == null ? f -> {} : l;
  }

  /** Tells the listener how far the collector's current step has got (-1: it ended). */
  void step(double fraction) {
    try {
      listener.accept(fraction);
    } catch (RuntimeException e) {
      // An observer's failure must not stop or fail the collection it observes (SPI contract).
      System.getLogger(GcMeters.class.getName())
          .log(System.Logger.Level.DEBUG, "GC progress listener failed", e);
    }
  }

  /** Nodes the collector could not coalesce for lack of space (xapi's gc_no_space). */
  java.util.Set<String> noSpace() {
    return java.util.Set.copyOf(noSpace);
  }

  void addNoSpace(String node) {
    noSpace.add(node);
  }

  /** Sets the tracker of a running leaf-coalesce of {@code location}; under the SR lock. */
  void track(String location, LeafWriteTracker t) {
    trackers.put(location, t);
  }

  /** Removes {@code t}, if it is still the tracker of {@code location}; under the SR lock. */
  void untrack(String location, LeafWriteTracker t) {
    trackers.remove(location, t);
  }

  /** The tracker of a running leaf-coalesce of {@code location}, or null. */
  LeafWriteTracker tracker(String location) {
    return trackers.get(location);
  }

  /** Whether a background pass may try to leaf-coalesce {@code leaf} now. */
  synchronized boolean leafDue(String leaf) {
    Backoff b = deferred.get(leaf);
    return b == null || System.nanoTime() - b.dueNanos() >= 0;
  }

  /** A leaf-coalesce was put off: the next try waits 10 s, doubling up to 5 minutes. */
  synchronized void leafDeferred(String leaf) {
    Backoff b = deferred.get(leaf);
    long step = b == null ? FIRST_BACKOFF_NANOS : Math.min(MAX_BACKOFF_NANOS, b.stepNanos() * 2);
    deferred.put(leaf, new Backoff(System.nanoTime() + step, step));
  }

  /** A leaf-coalesce succeeded. */
  synchronized void leafDone(String leaf) {
    deferred.remove(leaf);
  }

  synchronized GcCounters counters() {
    return counters;
  }

  GcBacklog backlog() {
    return backlog;
  }

  /** Adds one finished pass. */
  synchronized void addRun(GarbageCollector.GcReport r) {
    GcCounters c = counters;
    counters =
        new GcCounters(
            c.runs() + 1,
            c.garbageDeleted() + r.garbageDeleted(),
            c.coalesced() + r.coalesced(),
            c.leafCoalesced() + r.leafCoalesced(),
            c.bytesCopied() + r.bytesCopied(),
            c.noSpace() + r.noSpace().size(),
            c.leafPausesOverBudget() + r.pausesOverBudget(),
            Math.max(c.longestPauseMillis(), r.longestPauseNanos() / 1_000_000));
  }

  /**
   * Measures the backlog of {@code tree}: garbage (hidden nodes no VDI needs), hidden nodes that
   * can be merged into their only-child parent, and leaves that can be merged into theirs.
   *
   * @param rateBytesPerSecond the configured copy rate (0: unlimited) for the ETA
   * @param enabled whether the background collector runs (else the ETA is -1)
   */
  GcBacklog measure(VhdTree tree, long rateBytesPerSecond, boolean enabled) {
    long reclaimable = 0;
    long work = 0;
    int chains = 0;
    int garbage = 0;
    int longest = 0;
    for (VhdTree.Node n : tree.nodes()) {
      VhdTree.Node p = n.parent();
      if (n.isLeaf()) {
        longest = Math.max(longest, n.depth());
      }
      if (n.hidden && tree.isGarbage(n)) {
        garbage++;
        reclaimable += n.physicalSizeBytes;
      } else if (p != null && p.hidden && p.children().size() == 1 && (n.hidden || n.isLeaf())) {
        // A hidden node merged into its parent, or a leaf merged into it: its file goes.
        chains++;
        work += n.physicalSizeBytes;
        reclaimable += n.physicalSizeBytes;
      }
    }
    long eta;
    if (work == 0) {
      eta = 0;
    } else if (!enabled) {
      eta = -1;
    } else {
      long rate = rateBytesPerSecond > 0 ? rateBytesPerSecond : 256L * 1024 * 1024;
      eta = (work + rate - 1) / rate;
    }
    GcBacklog b = new GcBacklog(reclaimable, work, chains, garbage, longest, eta);
    backlog = b;
    return b;
  }
}
