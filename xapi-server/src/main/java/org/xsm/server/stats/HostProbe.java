package org.xsm.server.stats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The host's own figures from Linux's {@code /proc}: CPU use per CPU since the previous reading,
 * memory, load average, network bytes per second. A figure the system does not offer reads as NaN
 * (a missing row in the statistics), never as a made-up value.
 */
final class HostProbe {
  /** CPU use (0..1) of each CPU and of all together. */
  record Cpu(double[] perCpu, double average) {}

  /** Total and available memory, in KiB. */
  record Memory(double totalKib, double freeKib) {}

  private long[][] previousCpu;
  private long[] previousNet;
  private long previousNetNanos;

  /** CPU use since the previous call (the first call: since boot). */
  synchronized Cpu cpu() {
    List<String> lines = read("/proc/stat");
    List<long[]> now = new java.util.ArrayList<>();
    for (String l : lines) {
      if (l.startsWith("cpu")) {
        String[] f = l.trim().split("\\s+");
        long[] v = new long[f.length - 1];
        for (int i = 1; i < f.length; i++) {
          v[i - 1] = Long.parseLong(f[i]);
        }
        now.add(v);
      }
    }
    if (now.isEmpty()) {
      return new Cpu(new double[0], Double.NaN);
    }
    long[][] cur = now.toArray(new long[0][]);
    double[] use = new double[cur.length];
    for (int i = 0; i < cur.length; i++) {
      long[] prev = previousCpu != null && previousCpu.length == cur.length ? previousCpu[i] : null;
      use[i] = busyFraction(cur[i], prev);
    }
    previousCpu = cur;
    double[] perCpu = java.util.Arrays.copyOfRange(use, 1, use.length);
    return new Cpu(perCpu, use[0]);
  }

  /** user nice system idle iowait irq softirq steal: busy = all but idle and iowait. */
  private static double busyFraction(long[] cur, long[] prev) {
    long total = 0;
    long idle = 0;
    for (int i = 0; i < Math.min(8, cur.length); i++) {
      long d = cur[i] - (prev == null ? 0 : prev[i]);
      total += d;
      if (i == 3 || i == 4) {
        idle += d;
      }
    }
    return total <= 0 ? 0.0 : (double) (total - idle) / total;
  }

  Memory memory() {
    double total = Double.NaN;
    double free = Double.NaN;
    for (String l : read("/proc/meminfo")) {
      String[] f = l.split("\\s+");
      if (f[0].equals("MemTotal:")) {
        total = Double.parseDouble(f[1]);
      } else if (f[0].equals("MemAvailable:")) {
        free = Double.parseDouble(f[1]);
      }
    }
    return new Memory(total, free);
  }

  double loadavg() {
    List<String> l = read("/proc/loadavg");
    return l.isEmpty() ? Double.NaN : Double.parseDouble(l.get(0).split("\\s+")[0]);
  }

  /** Bytes per second received and sent by the host's interfaces but loopback. */
  synchronized double[] networkRates() {
    long rx = 0;
    long tx = 0;
    boolean any = false;
    for (String l : read("/proc/net/dev")) {
      int colon = l.indexOf(':');
      if (colon < 0 || l.substring(0, colon).trim().equals("lo")) {
        continue;
      }
      String[] f = l.substring(colon + 1).trim().split("\\s+");
      rx += Long.parseLong(f[0]);
      tx += Long.parseLong(f[8]);
      any = true;
    }
    if (!any) {
      return new double[] {Double.NaN, Double.NaN};
    }
    long now = System.nanoTime();
    double[] out = {0, 0};
    if (previousNet != null) {
      double s = Math.max(1e-3, (now - previousNetNanos) / 1e9);
      out[0] = Math.max(0, rx - previousNet[0]) / s;
      out[1] = Math.max(0, tx - previousNet[1]) / s;
    }
    previousNet = new long[] {rx, tx};
    previousNetNanos = now;
    return out;
  }

  private static List<String> read(String path) {
    try {
      return Files.readAllLines(Path.of(path));
    } catch (IOException e) {
      return List.of();
    }
  }
}
