package org.xsm.server.stats;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.domain.simulator.MemoryImages;
import org.xsm.server.model.Host;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.VmMetrics;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiException;
import org.xsm.server.nbd.NbdService;

/**
 * Samples the data sources every {@value #STEP_SECONDS} seconds into in-memory round-robin archives
 * ({@link Archive}), as xapi's rrdd does, per object: the host (its CPUs, memory and load from
 * {@code /proc}, its network bytes, and the I/O of each SR: {@code io_throughput_read_<sr uuid
 * prefix>} in MiB/s), each resident VM (memory from its metrics, disk bytes per second of each
 * attached VBD from the NBD server's counters, network interfaces, vCPUs) and each SR.
 *
 * <p>What a simulated guest does not do reads as zero: its vCPUs run no code of their own and its
 * interfaces carry no traffic. Its disks are real: whatever a client reads or writes through the
 * VBD's NBD export is counted.
 */
@ApplicationScoped
public class Sampler {
  static final long STEP_SECONDS = 5;
  private static final Logger LOG = Logger.getLogger(Sampler.class);
  private static final double MIB = 1024.0 * 1024.0;

  @Inject Database db;
  @Inject org.xsm.server.host.HostService hostService;
  @Inject NbdService nbd;

  /** The archives of one object ("host", "vm", "sr" and its uuid), by data source name. */
  private final Map<String, Map<String, Archive>> archives = new ConcurrentHashMap<>();

  private final HostProbe probe = new HostProbe();

  /** Per VDI ever exported: the NBD totals (read, written) at the previous sample. */
  private final Map<String, long[]> previousIo = new HashMap<>();

  private long previousSample;
  private volatile long lastSampleSeconds;
  private ScheduledExecutorService timer;

  /**
   * Starts sampling once start-up has made the host and plugged the SRs (a later observer than
   * {@code boot/Bootstrap}'s): a first sample taken before would describe no host, and a client
   * reading it (Xen Orchestra) would find the host's data sources missing.
   */
  void onStart(
      @Observes
          @jakarta.annotation.Priority(jakarta.interceptor.Interceptor.Priority.APPLICATION + 1000)
          StartupEvent ev) {
    timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "xapi-stats");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleAtFixedRate(this::tick, 0, STEP_SECONDS, TimeUnit.SECONDS);
  }

  void onStop(@Observes ShutdownEvent ev) {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  private void tick() {
    try {
      sampleNow();
    } catch (RuntimeException e) {
      LOG.warnf(e, "statistics sample failed; the next one is in %d s", STEP_SECONDS);
    }
  }

  /** Takes one sample of every data source now (the timer calls it; tests may too). */
  public synchronized void sampleNow() {
    long nowMillis = System.currentTimeMillis();
    long t = nowMillis / 1000;
    double seconds =
        previousSample == 0 ? STEP_SECONDS : Math.max(0.001, (nowMillis - previousSample) / 1e3);
    previousSample = nowMillis;
    Map<String, double[]> io = ioRates(seconds);
    Ref<Host> host = hostService.host();
    if (!host.isNull()) {
      sampleHost(t, host, io);
      for (Ref<Vm> vm : db.where(Vm.RESIDENT_ON, host)) {
        sampleVm(t, vm, io);
      }
    }
    dropGone();
    lastSampleSeconds = t;
  }

  /** Archives of VMs and SRs that no longer exist are dropped (one index lookup each). */
  private void dropGone() {
    archives
        .keySet()
        .removeIf(
            key -> {
              String[] ku = key.split(":", 2);
              XClass<?> c = ku[0].equals("vm") ? Vm.CLASS : ku[0].equals("sr") ? Sr.CLASS : null;
              return c != null && !exists(c, ku[1]);
            });
  }

  private boolean exists(XClass<?> c, String uuid) {
    try {
      db.byUuid(c, uuid);
      return true;
    } catch (XenApiException e) {
      return false;
    }
  }

  /** Whether a VM runs now (only those are in {@code /rrd_updates}, as in xapi). */
  boolean running(String vmUuid) {
    try {
      PowerState p = db.get(db.byUuid(Vm.CLASS, vmUuid), Vm.POWER_STATE);
      return p == PowerState.RUNNING || p == PowerState.PAUSED;
    } catch (XenApiException e) {
      return false;
    }
  }

  /** When the newest sample was taken (epoch seconds; 0 before the first). */
  long lastSampleSeconds() {
    return lastSampleSeconds;
  }

  /** Bytes per second read and written through each exported VDI since the previous sample. */
  private Map<String, double[]> ioRates(double seconds) {
    Map<String, double[]> rates = new HashMap<>();
    for (String vdi : nbd.exportedVdis()) {
      NbdService.IoTotals tot = nbd.ioTotals(vdi);
      long[] cur = {tot.bytesRead(), tot.bytesWritten()};
      // Totals count from the server's start: a VDI not seen before did all of it since then.
      long[] prev = previousIo.getOrDefault(vdi, new long[2]);
      previousIo.put(vdi, cur);
      rates.put(
          vdi,
          new double[] {
            Math.max(0, cur[0] - prev[0]) / seconds, Math.max(0, cur[1] - prev[1]) / seconds
          });
    }
    return rates;
  }

  private void sampleHost(long t, Ref<Host> host, Map<String, double[]> io) {
    Map<String, Double> v = new LinkedHashMap<>();
    HostProbe.Cpu cpu = probe.cpu();
    for (int i = 0; i < cpu.perCpu().length; i++) {
      v.put("cpu" + i, cpu.perCpu()[i]);
    }
    v.put("cpu_avg", cpu.average());
    HostProbe.Memory mem = probe.memory();
    v.put("memory_total_kib", mem.totalKib());
    v.put("memory_free_kib", mem.freeKib());
    v.put("loadavg", probe.loadavg());
    double[] net = probe.networkRates();
    v.put("pif_eth0_rx", net[0]);
    v.put("pif_eth0_tx", net[1]);
    v.put("pif_aggr_rx", net[0]);
    v.put("pif_aggr_tx", net[1]);
    Map<String, double[]> perSr = new HashMap<>();
    for (Map.Entry<String, double[]> e : io.entrySet()) {
      Ref<Sr> sr = srOf(e.getKey());
      if (sr != null) {
        double[] s = perSr.computeIfAbsent(sr.value(), k -> new double[2]);
        s[0] += e.getValue()[0];
        s[1] += e.getValue()[1];
      }
    }
    for (Ref<Sr> sr : db.all(Sr.CLASS)) {
      String uuid = uuidOf(Sr.CLASS, sr);
      if (uuid == null) {
        continue;
      }
      double[] s = perSr.getOrDefault(sr.value(), new double[2]);
      String shortId = uuid.substring(0, Math.min(8, uuid.length()));
      v.put("io_throughput_read_" + shortId, s[0] / MIB);
      v.put("io_throughput_write_" + shortId, s[1] / MIB);
      v.put("io_throughput_total_" + shortId, (s[0] + s[1]) / MIB);
      record(
          t,
          "sr",
          uuid,
          Map.of("io_throughput_read", s[0] / MIB, "io_throughput_write", s[1] / MIB));
    }
    String uuid = uuidOf(Host.CLASS, host);
    if (uuid != null) {
      record(t, "host", uuid, v);
    }
  }

  private void sampleVm(long t, Ref<Vm> vm, Map<String, double[]> io) {
    Row<Vm> row = db.readOrNull(Vm.CLASS, vm);
    if (row == null
        || (row.get(Vm.POWER_STATE) != PowerState.RUNNING
            && row.get(Vm.POWER_STATE) != PowerState.PAUSED)) {
      return;
    }
    Map<String, Double> v = new LinkedHashMap<>();
    for (int i = 0; i < row.get(Vm.VCPUS_AT_STARTUP); i++) {
      v.put("cpu" + i, 0.0);
    }
    long actual = row.get(Vm.MEMORY_TARGET);
    Ref<VmMetrics> metrics = row.get(Vm.METRICS);
    Row<VmMetrics> m = metrics.isNull() ? null : db.readOrNull(VmMetrics.CLASS, metrics);
    if (m != null && m.get(VmMetrics.MEMORY_ACTUAL) > 0) {
      actual = m.get(VmMetrics.MEMORY_ACTUAL);
    }
    v.put("memory", (double) actual);
    v.put("memory_target", (double) row.get(Vm.MEMORY_TARGET));
    if (!row.get(Vm.IS_CONTROL_DOMAIN)) {
      // The simulated guest's working set is its memory image; the rest is free to it.
      v.put("memory_internal_free", Math.max(0, actual - MemoryImages.SIZE_BYTES) / 1024.0);
    }
    for (Ref<Vbd> vbd : row.get(Vm.VBDS)) {
      Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
      if (b == null || !b.get(Vbd.CURRENTLY_ATTACHED) || b.get(Vbd.VDI).isNull()) {
        continue;
      }
      String dev = deviceName(b);
      double[] r = io.getOrDefault(b.get(Vbd.VDI).value(), new double[2]);
      v.put("vbd_" + dev + "_read", r[0]);
      v.put("vbd_" + dev + "_write", r[1]);
    }
    for (Ref<Vif> vif : row.get(Vm.VIFS)) {
      Row<Vif> f = db.readOrNull(Vif.CLASS, vif);
      if (f != null) {
        v.put("vif_" + f.get(Vif.DEVICE) + "_rx", 0.0);
        v.put("vif_" + f.get(Vif.DEVICE) + "_tx", 0.0);
      }
    }
    record(t, "vm", row.get(Vm.UUID), v);
  }

  /** xapi names a VBD's data sources by its device ({@code xvda}), or by its user device number. */
  private static String deviceName(Row<Vbd> b) {
    String d = b.get(Vbd.DEVICE);
    if (d != null && !d.isEmpty()) {
      return d;
    }
    try {
      return "xvd" + (char) ('a' + Integer.parseInt(b.get(Vbd.USERDEVICE)));
    } catch (NumberFormatException e) {
      return b.get(Vbd.USERDEVICE);
    }
  }

  private Ref<Sr> srOf(String vdiRef) {
    try {
      return db.get(Ref.<Vdi>of(vdiRef), Vdi.SR);
    } catch (XenApiException e) {
      return null;
    }
  }

  private <C> String uuidOf(XClass<C> c, Ref<C> ref) {
    Map<String, Object> r = db.wireRecordOrNull(c, ref.value());
    return r == null ? null : String.valueOf(r.get("uuid"));
  }

  private void record(long t, String kind, String uuid, Map<String, Double> values) {
    Map<String, Archive> a =
        archives.computeIfAbsent(kind + ":" + uuid, k -> new ConcurrentHashMap<>());
    for (Map.Entry<String, Double> e : values.entrySet()) {
      a.computeIfAbsent(e.getKey(), k -> new Archive()).add(t, e.getValue());
    }
  }

  /** The archives of an object ({@code kind} host, vm or sr), by data source; empty if none. */
  Map<String, Archive> archivesOf(String kind, String uuid) {
    return archives.getOrDefault(kind + ":" + uuid, Map.of());
  }

  /** Every object with archives, as {@code kind:uuid}. */
  List<String> objects() {
    return new ArrayList<>(archives.keySet());
  }

  /** {@code forget_data_source_archives}: drops one data source's history. */
  boolean forget(String kind, String uuid, String name) {
    Map<String, Archive> a = archives.get(kind + ":" + uuid);
    return a != null && a.remove(name) != null;
  }
}
