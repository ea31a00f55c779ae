package org.xsm.server.stats;

import java.util.Arrays;
import java.util.List;

/**
 * The round-robin archives of one data source, as xapi's rrdd keeps them: a row per 5 seconds for
 * 10 minutes, per minute for 2 hours, per hour for a week, per day for a year ({@link #STEPS}).
 * Each row consolidates the samples of its interval (average, minimum, maximum); a row that got no
 * sample reads as NaN. As in an RRD, the row of time {@code T} holds the samples of {@code (T -
 * step, T]}, so a sample's row is at most one step ahead of it. In memory only: a restart starts
 * empty.
 *
 * <p>Thread-safety: the sampler writes, HTTP and RPC readers read; methods are synchronized.
 */
final class Archive {
  /** One archive: a row per {@code stepSeconds}, {@code rows} of them. */
  record Step(long stepSeconds, int rows) {}

  static final List<Step> STEPS =
      List.of(new Step(5, 120), new Step(60, 120), new Step(3600, 168), new Step(86400, 366));

  /** The consolidation functions of {@code /rrd_updates?cf=}. */
  enum Cf {
    AVERAGE,
    MIN,
    MAX
  }

  private static final class Rra {
    final Step step;
    final long[] bucket;
    final double[] sum;
    final long[] count;
    final double[] min;
    final double[] max;

    Rra(Step step) {
      this.step = step;
      bucket = new long[step.rows()];
      Arrays.fill(bucket, -1);
      sum = new double[step.rows()];
      count = new long[step.rows()];
      min = new double[step.rows()];
      max = new double[step.rows()];
    }
  }

  private final Rra[] rras;
  private double last = Double.NaN;

  Archive() {
    rras = new Rra[STEPS.size()];
    for (int i = 0; i < rras.length; i++) {
      rras[i] = new Rra(STEPS.get(i));
    }
  }

  /** The row holding time {@code t}: the first multiple of the step at or after it. */
  static long bucket(long t, Step step) {
    return Math.floorDiv(t + step.stepSeconds() - 1, step.stepSeconds());
  }

  /** Records the value sampled at {@code epochSeconds} (NaN: no value this time). */
  synchronized void add(long epochSeconds, double value) {
    last = value;
    if (Double.isNaN(value)) {
      return;
    }
    for (Rra r : rras) {
      long b = bucket(epochSeconds, r.step);
      int slot = (int) (b % r.step.rows());
      if (r.bucket[slot] != b) {
        r.bucket[slot] = b;
        r.sum[slot] = 0;
        r.count[slot] = 0;
        r.min[slot] = Double.POSITIVE_INFINITY;
        r.max[slot] = Double.NEGATIVE_INFINITY;
      }
      r.sum[slot] += value;
      r.count[slot]++;
      r.min[slot] = Math.min(r.min[slot], value);
      r.max[slot] = Math.max(r.max[slot], value);
    }
  }

  /** The newest sample (NaN before the first). */
  synchronized double last() {
    return last;
  }

  /**
   * The consolidated value of the row of {@code step} that holds {@code epochSeconds}, NaN if that
   * row has no sample or has been overwritten by a newer one.
   */
  synchronized double value(Step step, long epochSeconds, Cf cf) {
    Rra r = rras[STEPS.indexOf(step)];
    long b = bucket(epochSeconds, step);
    int slot = (int) (b % step.rows());
    if (r.bucket[slot] != b || r.count[slot] == 0) {
      return Double.NaN;
    }
    return switch (cf) {
      case AVERAGE -> r.sum[slot] / r.count[slot];
      case MIN -> r.min[slot];
      case MAX -> r.max[slot];
    };
  }
}
