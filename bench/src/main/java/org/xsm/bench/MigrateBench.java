package org.xsm.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.registry.PluginRegistry;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.Domains.IncomingMigration;
import org.xsm.server.domain.Domains.MigrationResult;
import org.xsm.server.domain.qemu.QemuDomains;
import org.xsm.server.domain.qemu.QemuInstallation;
import org.xsm.server.guest.GuestImages;
import org.xsm.server.guest.SerialConsole;
import org.xsm.server.nbd.NbdServer;
import org.xsm.server.runtime.RunDirectory;

/**
 * Live migration of a real guest (QEMU, TCG here) between two "hosts" in this JVM (two {@code
 * QemuDomains} with their own data and run directories), its disk a VDI of a local EXT SR served by
 * our NBD server. The guest prints a tick on its serial console every few milliseconds; it is moved
 * back and forth {@code --runs} times. Per run: QEMU's own {@code downtime} and {@code total-time},
 * the MiB sent, and the downtime the guest's console shows: the time from the last tick that came
 * out of the source to the first that came out of the destination, minus the usual time between two
 * ticks.
 *
 * <p>Options: {@code --runs N} (default 6), {@code --memory-mib N} (256), {@code --downtime-ms N}
 * (QEMU's downtime-limit, 300), {@code --dirty-mib N} (0: the guest also copies N MiB of random
 * bytes over and over in its page cache, memory that keeps changing while it moves). Needs
 * qemu-system-x86 and busybox-static; the guest is built by the server's tests' {@code GuestImages}
 * (cached under xapi-server/target/guest-cache).
 */
public final class MigrateBench {
  private static final long MIB = 1 << 20;
  private static final Duration BOOT = Duration.ofSeconds(60);
  private static final Duration WAIT = Duration.ofSeconds(60);

  private MigrateBench() {}

  /** Held: the log level of a logger nobody references is forgotten. */
  private static final java.util.logging.Logger QUIET =
      java.util.logging.Logger.getLogger("org.xsm");

  public static void main(String[] args) throws Exception {
    QUIET.setLevel(java.util.logging.Level.WARNING); // the domains' INFO lines would hide the table
    int runs = 6;
    long memoryMib = 256;
    long downtimeMs = 300;
    long dirtyMib = 0;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--memory-mib" -> memoryMib = Long.parseLong(args[++i]);
        case "--downtime-ms" -> downtimeMs = Long.parseLong(args[++i]);
        case "--dirty-mib" -> dirtyMib = Long.parseLong(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Optional<String> missing = GuestImages.unavailable();
    if (missing.isPresent()) {
      System.err.println("migrate: no real guests here: " + missing.get());
      System.exit(2);
    }
    QemuInstallation qemu =
        QemuInstallation.detect()
            .orElseThrow(() -> new IllegalStateException("qemu-system-x86_64 does not run"));
    GuestImages.Guest guest = GuestImages.build();

    Path dir =
        Path.of(System.getenv().getOrDefault("XSM_BENCH_DIR", "bench/target/bench-data"))
            .toAbsolutePath()
            .resolve("migrate");
    GcLeafPause.deleteTree(dir);
    Files.createDirectories(dir);
    var ext = PluginRegistry.load().driver("ext");
    SrConfig cfg =
        new SrConfig(UUID.randomUUID().toString(), Map.of("path", dir.resolve("sr").toString()));
    Files.createDirectories(dir.resolve("sr"));
    ext.create(cfg, 0);
    Sr sr = ext.attach(cfg);
    String loc = sr.createVdi(64 * MIB, VdiMetadata.named("migrate-bench")).location();
    sr.attachVdi(loc, true);
    VdiDevice disk = sr.activateVdi(loc);
    Path runRoot = Files.createTempDirectory("xsm-migrate-");
    Path socket = runRoot.resolve("nbd.sock");

    String vm = UUID.randomUUID().toString();
    DomainSpec spec =
        new DomainSpec(
            vm,
            "migrate-bench",
            1,
            memoryMib * MIB,
            new DomainSpec.KernelBoot(
                guest.kernel().toString(),
                guest.initrd().toString(),
                "console=ttyS0 quiet panic=-1"),
            List.of(
                new DomainSpec.Disk(
                    "0", DomainSpec.DiskKind.DISK, socket, "bench", false, true, loc)),
            List.of());
    QemuDomains[] hosts = {host(qemu, dir.resolve("host-a")), host(qemu, dir.resolve("host-b"))};
    System.out.printf(
        "migrate benchmark: %d MiB guest%s (%s, %s), downtime-limit %d ms, %d runs, %d CPUs%n",
        memoryMib,
        dirtyMib > 0 ? " rewriting " + dirtyMib + " MiB of its memory without pause" : "",
        guest.kernelPackage(),
        qemu.accelerationReason(),
        downtimeMs,
        runs,
        Runtime.getRuntime().availableProcessors());
    List<long[]> rows = new ArrayList<>();
    try (NbdServer nbd = NbdServer.startUnix(socket, 4)) {
      nbd.export("bench", disk, false);
      hosts[0].create(spec, false, Optional.empty());
      try (SerialConsole c = SerialConsole.connect(hosts[0].console(vm, serial()).get(), BOOT)) {
        c.awaitShell(BOOT);
        c.run("(i=0; while :; do echo \"<T$i>\"; i=$((i+1)); usleep 2000; done) &", WAIT);
        if (dirtyMib > 0) {
          // Random bytes in the page cache, copied over and over: memory that keeps changing.
          c.run("dd if=/dev/urandom of=/tmp/src bs=1M count=" + dirtyMib + " 2>/dev/null", WAIT);
          c.run("(while :; do cp /tmp/src /tmp/dirty; done) &", WAIT);
        }
      }
      TickReader from = TickReader.open(hosts[0].console(vm, serial()).get());
      from.awaitTicks(20, WAIT);
      System.out.printf(
          "%4s %10s %10s %6s %11s %11s %10s %9s %5s%n",
          "run",
          "qemu-down",
          "total",
          "MiB",
          "guest-gap",
          "tick-period",
          "migrateOut",
          "finish-in",
          "lost");
      for (int run = 1; run <= runs; run++) {
        QemuDomains src = hosts[(run - 1) % 2];
        QemuDomains dst = hosts[run % 2];
        IncomingMigration in = dst.prepareIncoming(spec);
        TickReader to = TickReader.open(dst.console(vm, serial()).get());
        long period = from.medianPeriodNanos();
        long t0 = System.nanoTime();
        MigrationResult r = src.migrateOut(vm, in.endpoint(), Duration.ofMillis(downtimeMs));
        long t1 = System.nanoTime();
        dst.finishIncoming(vm, false, WAIT);
        long t2 = System.nanoTime();
        to.awaitTicks(5, WAIT);
        TickReader.Tick last = from.last();
        TickReader.Tick first = to.first();
        from.close();
        long gap = first.nanos() - last.nanos() - period;
        long lost = first.number() - last.number() - 1;
        rows.add(new long[] {r.downtime().toMillis(), r.total().toMillis(), gap / 1_000_000});
        System.out.printf(
            "%4d %7d ms %7d ms %6d %8.1f ms %8.1f ms %7d ms %6d ms %5d%n",
            run,
            r.downtime().toMillis(),
            r.total().toMillis(),
            r.bytesTransferred() / MIB,
            gap / 1e6,
            period / 1e6,
            (t1 - t0) / 1_000_000,
            (t2 - t1) / 1_000_000,
            lost);
        from = to;
        to.awaitTicks(20, WAIT); // a settled period for the next run's figure
      }
      from.close();
      hosts[runs % 2].destroy(vm);
    } finally {
      for (QemuDomains h : hosts) {
        h.destroy(vm);
      }
      Files.deleteIfExists(socket);
      Files.deleteIfExists(runRoot);
      sr.deactivateVdi(loc);
      sr.detachVdi(loc);
      sr.detach();
    }
    summary("QEMU downtime", rows, 0);
    summary("total time", rows, 1);
    summary("guest-seen gap", rows, 2);
    System.out.printf(
        "goal: downtime <= 300 ms under TCG: %s%n",
        rows.stream().allMatch(r -> r[0] <= 300 && r[2] <= 300) ? "met" : "NOT met");
  }

  private static org.xsm.server.domain.Domains.Console serial() {
    return org.xsm.server.domain.Domains.Console.SERIAL;
  }

  private static void summary(String what, List<long[]> rows, int column) {
    long[] v = rows.stream().mapToLong(r -> r[column]).sorted().toArray();
    System.out.printf(
        "%-15s median %5d ms, min %5d ms, max %5d ms%n",
        what + ":", v[v.length / 2], v[0], v[v.length - 1]);
  }

  private static QemuDomains host(QemuInstallation qemu, Path data) {
    return new QemuDomains(qemu, RunDirectory.forDataDir(data), data.resolve("domains"));
  }
}
