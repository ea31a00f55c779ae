package org.xsm.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Does an operation's cost grow with the size of the pool? Starts the packaged server, measures
 * VDI.create, VDI.snapshot, VDI.destroy, VM.snapshot (4 disks) and VM.get_record over JSON-RPC with
 * 100 VDIs on the local SR, grows the SR to 10,000 VDIs and 2,000 VMs, measures the same again and
 * prints the medians and their ratios; then SR.scan and VDI.get_all_records at that size, a restart
 * (process start to the first answered call on that data) and the heap used.
 *
 * <p>Targets (issue 14): each ratio at most 1.2; SR.scan at most 2 s; VDI.get_all_records at most
 * 200 ms; restart at most 15 s.
 */
public final class ScaleBench {
  private static final Pattern HEAP =
      Pattern.compile("jvm_memory_used_bytes\\{area=\"heap\"[^}]*\\} ([0-9.E+]+)");

  private final String jar;
  private final int small;
  private final int large;
  private final int vms;
  private final int samples;
  private ServerProcess server;
  private JsonRpc rpc;
  private String session;
  private String sr;
  private final List<String> vmRefs = new ArrayList<>();
  private int vdiCount;

  private ScaleBench(String jar, int small, int large, int vms, int samples) {
    this.jar = jar;
    this.small = small;
    this.large = large;
    this.vms = vms;
    this.samples = samples;
  }

  public static void main(String[] args) throws Exception {
    String jar = "xapi-server/target/quarkus-app/quarkus-run.jar";
    int small = 100;
    int large = 10_000;
    int vms = 2_000;
    int samples = 31;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--jar" -> jar = args[++i];
        case "--small" -> small = Integer.parseInt(args[++i]);
        case "--vdis" -> large = Integer.parseInt(args[++i]);
        case "--vms" -> vms = Integer.parseInt(args[++i]);
        case "--samples" -> samples = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    System.exit(new ScaleBench(jar, small, large, vms, samples).run());
  }

  private int run() throws Exception {
    // The GC stays out of the way of the figures: it gets a quiet period longer than the run.
    server = new ServerProcess(jar, Map.of("XSM_GC_QUIET_PERIOD_MS", "86400000"));
    try {
      server.start();
      connect();
      System.out.printf(
          "Scale benchmark over JSON-RPC: one EXT SR grown from %,d to %,d VDIs and %,d VMs;"
              + " medians of %d calls; server pid %d%n",
          small, large, vms, samples, server.pid());
      grow(small, Math.max(1, vms * small / large));
      measure("warm-up (JIT; not counted) at " + small, Math.max(3, samples / 4));
      double[] atSmall = measure("at " + small, samples);
      grow(large, vms);
      double[] atLarge = measure("at " + large, samples);
      String[] names = {
        "VDI.create", "VDI.snapshot", "VDI.destroy", "VM.snapshot", "VM.get_record"
      };
      boolean ok = true;
      System.out.printf("ratios (%,d / %,d VDIs), target <= 1.2:%n", large, small);
      for (int i = 0; i < names.length; i++) {
        double r = atLarge[i] / atSmall[i];
        ok &= r <= 1.2;
        System.out.printf(
            "  %-14s %7.2f ms -> %7.2f ms  ratio %5.2f  %s%n",
            names[i], atSmall[i], atLarge[i], r, r <= 1.2 ? "met" : "MISSED");
      }
      double scan = median(5, () -> rpc.call("SR.scan", session, sr));
      double all = median(5, () -> rpc.call("VDI.get_all_records", session));
      ok &= scan <= 2000 && all <= 200;
      System.out.printf(
          "SR.scan of %,d VDIs: median %.0f ms (target <= 2000: %s)%n",
          vdiCount, scan, scan <= 2000 ? "met" : "MISSED");
      System.out.printf(
          "VDI.get_all_records (%,d): median %.0f ms (target <= 200: %s)%n",
          vdiCount, all, all <= 200 ? "met" : "MISSED");
      System.out.printf("heap used before restart: %.0f MiB%n", heapMib());
      server.stop();
      long t0 = System.nanoTime();
      long ready = server.start();
      connect();
      rpc.call("VM.get_record", session, vmRefs.get(0));
      double first = (System.nanoTime() - t0) / 1e6;
      ok &= first <= 15_000;
      System.out.printf(
          "restart with that data: ready after %,d ms, first answered call after %,.0f ms"
              + " (target <= 15000: %s); heap used %.0f MiB%n",
          ready, first, first <= 15_000 ? "met" : "MISSED", heapMib());
      System.out.println(ok ? "all targets met" : "some targets MISSED");
      return 0;
    } finally {
      server.close();
    }
  }

  private void connect() throws Exception {
    rpc = new JsonRpc(server.base());
    session = rpc.ref("session.login_with_password", "root", ServerProcess.PASSWORD, "2.21");
    String pool = rpc.ref("pool.get_all", session);
    sr = rpc.ref("pool.get_default_SR", session, pool);
  }

  private static Map<String, Object> vdi(String sr, String name) {
    return Map.of("SR", sr, "virtual_size", 64L << 20, "name_label", name, "type", "user");
  }

  /** Adds VDIs up to {@code vdis} and VMs (each with one disk) up to {@code vmTarget}. */
  private void grow(int vdis, int vmTarget) throws Exception {
    long t0 = System.nanoTime();
    int addVdis = vdis - vdiCount;
    int addVms = vmTarget - vmRefs.size();
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> fs = new ArrayList<>();
    List<String> made = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < 4; t++) {
      fs.add(
          pool.submit(
              () -> {
                JsonRpc c = new JsonRpc(server.base());
                for (int i = next.getAndIncrement(); i < addVdis; i = next.getAndIncrement()) {
                  String v = c.ref("VDI.create", session, vdi(sr, "fill-" + (vdiCount + i)));
                  if (i < addVms) {
                    String vm = c.ref("VM.create", session, Map.of("name_label", "vm-" + i));
                    c.ref(
                        "VBD.create",
                        session,
                        Map.of(
                            "VM", vm, "VDI", v, "userdevice", "0", "type", "Disk", "mode", "RW"));
                    made.add(vm);
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : fs) {
      f.get();
    }
    pool.shutdown();
    vmRefs.addAll(made);
    vdiCount = vdis;
    System.out.printf(
        "grown to %,d VDIs and %,d VMs in %.1f s%n",
        vdiCount, vmRefs.size(), (System.nanoTime() - t0) / 1e9);
  }

  /** Medians of the five operations at the current size; the SR's size is the same after. */
  private double[] measure(String label, int n) throws Exception {
    double[] create = new double[n];
    double[] snapshot = new double[n];
    double[] destroy = new double[2 * n];
    List<String> vdis = new ArrayList<>();
    List<String> snaps = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      vdis.add(rpc.ref("VDI.create", session, vdi(sr, "m-" + i)));
      create[i] = ms(t0);
    }
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      snaps.add(rpc.ref("VDI.snapshot", session, vdis.get(i), Map.of()));
      snapshot[i] = ms(t0);
    }
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      rpc.call("VDI.destroy", session, snaps.get(i));
      destroy[i] = ms(t0);
      t0 = System.nanoTime();
      rpc.call("VDI.destroy", session, vdis.get(i));
      destroy[n + i] = ms(t0);
    }
    String vm =
        rpc.ref("VM.create", session, Map.of("name_label", "snap-" + vmRefs.size() + "-" + n));
    for (int d = 0; d < 4; d++) {
      String v = rpc.ref("VDI.create", session, vdi(sr, "vm-disk-" + d));
      rpc.ref(
          "VBD.create",
          session,
          Map.of("VM", vm, "VDI", v, "userdevice", "" + d, "type", "Disk", "mode", "RW"));
    }
    int vmSnaps = Math.min(n, 20); // the chain limit is 30: 20 a phase leaves room
    double[] vmSnap = new double[vmSnaps];
    for (int i = 0; i < vmSnaps; i++) {
      long t0 = System.nanoTime();
      rpc.ref("VM.snapshot", session, vm, "s" + i);
      vmSnap[i] = ms(t0);
    }
    double[] getRecord = new double[10 * n];
    for (int i = 0; i < getRecord.length; i++) {
      String target = vmRefs.get((i * 7919) % vmRefs.size());
      long t0 = System.nanoTime();
      rpc.call("VM.get_record", session, target);
      getRecord[i] = ms(t0);
    }
    double[] out = {
      median(create), median(snapshot), median(destroy), median(vmSnap), median(getRecord)
    };
    System.out.printf(
        Locale.ROOT,
        "%s: VDI.create %.2f ms, VDI.snapshot %.2f ms, VDI.destroy %.2f ms,"
            + " VM.snapshot (4 disks) %.2f ms, VM.get_record %.2f ms%n",
        label,
        out[0],
        out[1],
        out[2],
        out[3],
        out[4]);
    return out;
  }

  private double heapMib() throws Exception {
    Matcher m = HEAP.matcher(rpc.get(server.base(), "/q/metrics"));
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
    }
    return sum / (1 << 20);
  }

  private interface Call {
    void run() throws Exception;
  }

  private static double median(int n, Call c) throws Exception {
    double[] t = new double[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      c.run();
      t[i] = ms(t0);
    }
    return median(t);
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
