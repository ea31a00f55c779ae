package org.xsm.server.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** What the soak counted: operations per kind and outcome, latencies, faults, inconsistencies. */
final class Stats {
  /** Outcomes of an operation. */
  enum Outcome {
    OK,
    REFUSED,
    NO_ANSWER
  }

  private final Map<String, List<Long>> latencies = new ConcurrentHashMap<>();
  private final Map<String, Map<Outcome, Integer>> counts = new ConcurrentHashMap<>();
  private final Map<String, Integer> refusals = new ConcurrentHashMap<>();
  private final Map<String, Integer> faults = new ConcurrentHashMap<>();
  private final List<String> inconsistencies = new ArrayList<>();

  void done(String op, Outcome o, long nanos, String code) {
    counts.computeIfAbsent(op, k -> new ConcurrentHashMap<>()).merge(o, 1, Integer::sum);
    if (o == Outcome.OK) {
      List<Long> l = latencies.computeIfAbsent(op, k -> new ArrayList<>());
      synchronized (l) {
        l.add(nanos);
      }
    }
    if (o == Outcome.REFUSED) {
      refusals.merge(op + " " + code, 1, Integer::sum);
    }
  }

  void fault(String kind) {
    faults.merge(kind, 1, Integer::sum);
  }

  int faults(String kind) {
    return faults.getOrDefault(kind, 0);
  }

  synchronized void inconsistency(String what) {
    inconsistencies.add(what);
  }

  synchronized List<String> inconsistencies() {
    return List.copyOf(inconsistencies);
  }

  int ok(String op) {
    return counts.getOrDefault(op, Map.of()).getOrDefault(Outcome.OK, 0);
  }

  int totalOk() {
    return counts.keySet().stream().mapToInt(this::ok).sum();
  }

  /** The report: a line per operation kind, the faults, the refusals, the inconsistencies. */
  String report() {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            "%-16s %8s %8s %9s %9s %9s%n", "op", "ok", "refused", "no-answer", "p50 ms", "p99 ms"));
    for (String op : new TreeMap<>(counts).keySet()) {
      Map<Outcome, Integer> c = counts.get(op);
      List<Long> l = new ArrayList<>(latencies.getOrDefault(op, List.of()));
      l.sort(null);
      b.append(
          String.format(
              "%-16s %8d %8d %9d %9.1f %9.1f%n",
              op,
              c.getOrDefault(Outcome.OK, 0),
              c.getOrDefault(Outcome.REFUSED, 0),
              c.getOrDefault(Outcome.NO_ANSWER, 0),
              percentile(l, 0.50),
              percentile(l, 0.99)));
    }
    b.append("faults: ").append(new TreeMap<>(faults)).append('\n');
    b.append("refusals: ").append(new TreeMap<>(refusals)).append('\n');
    b.append("inconsistencies: ").append(inconsistencies().size()).append('\n');
    for (String i : inconsistencies()) {
      b.append("  ").append(i).append('\n');
    }
    return b.toString();
  }

  private static double percentile(List<Long> sorted, double p) {
    if (sorted.isEmpty()) {
      return 0;
    }
    int i = (int) Math.min(sorted.size() - 1, Math.ceil(p * sorted.size()) - 1);
    return sorted.get(Math.max(0, i)) / 1e6;
  }
}
