package org.xsm.bench;

import java.util.Arrays;

/** Write latencies of a benchmark run, in nanoseconds; thread-safe. */
final class Latencies {
  private long[] values = new long[1 << 16];
  private int count;

  synchronized void add(long nanos) {
    if (count == values.length) {
      values = Arrays.copyOf(values, count * 2);
    }
    values[count++] = nanos;
  }

  /** Adds all of {@code other}'s values. */
  void addAll(Latencies other) {
    long[] v;
    int n;
    synchronized (other) {
      v = other.values;
      n = other.count;
    }
    for (int i = 0; i < n; i++) {
      add(v[i]);
    }
  }

  /** Percentiles in microseconds. */
  record Summary(int count, long p50Micros, long p99Micros, long maxMicros) {}

  synchronized Summary summary() {
    if (count == 0) {
      return new Summary(0, 0, 0, 0);
    }
    long[] s = Arrays.copyOf(values, count);
    Arrays.sort(s);
    return new Summary(
        count,
        s[(int) (count * 0.50)] / 1000,
        s[Math.min(count - 1, (int) (count * 0.99))] / 1000,
        s[count - 1] / 1000);
  }
}
