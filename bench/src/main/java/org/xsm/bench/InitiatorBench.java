package org.xsm.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xsm.iscsi.initiator.InitiatorConfig;
import org.xsm.iscsi.initiator.IscsiSession;
import org.xsm.iscsi.initiator.ScsiDisk;
import org.xsm.iscsi.initiator.Tgtd;

/**
 * The pure-Java iSCSI initiator against libiscsi (the C initiator qemu uses), both against the same
 * tgtd LUN backed by a file in memory ({@code /dev/shm}), so that the protocol path is measured and
 * not a disk:
 *
 * <ul>
 *   <li>sequential write and read of the whole LUN: ours in 8 MiB calls (which the initiator splits
 *       into 256 KiB commands, 8 in flight) vs {@code qemu-img bench -s 1M -d 8} (1 MiB requests, 8
 *       in parallel, libiscsi under qemu's block layer; the time it reports, without process
 *       start);
 *   <li>random 4 KiB reads with 8 in flight: ours (8 threads) vs {@code iscsi-perf -r -b 8 -m 8}.
 * </ul>
 *
 * The ratio is ours / libiscsi (above 1: faster). tgtd (the tests' {@link Tgtd} harness) runs with
 * control port 29, on a free TCP port, and is killed at the end. Each figure is the median of 5
 * runs, ours and the reference alternating.
 */
public final class InitiatorBench {
  private static final int MIB = 1024 * 1024;
  private static final String IQN = "iqn.2024-01.org.xsm.bench:lun";
  private static final int CONTROL = 29;
  private static final int RUNS = 5;

  public static void main(String[] args) throws Exception {
    int sizeMib = 256;
    int seconds = 2;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--size-mib") && i + 1 < args.length) {
        sizeMib = Integer.parseInt(args[++i]);
      } else if (args[i].equals("--seconds") && i + 1 < args.length) {
        // iscsi-perf prints its first average after one second
        seconds = Math.max(2, Integer.parseInt(args[++i]));
      } else {
        System.err.println("usage: InitiatorBench [--size-mib N] [--seconds N]");
        System.exit(2);
      }
    }
    Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "xsm-iscsi-bench");
    Path lun = dir.resolve("lun.img");
    byte[] data = new byte[sizeMib * MIB];
    new Random(1).nextBytes(data);
    try (FileChannel ch =
        FileChannel.open(lun, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.truncate((long) sizeMib * MIB);
      ch.write(ByteBuffer.allocate(1), (long) sizeMib * MIB - 1);
    }
    try (Tgtd tgtd = Tgtd.start(dir, CONTROL)) {
      tgtd.target(1, IQN, lun);
      run(tgtd.port(), data, dir, seconds);
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(dir);
    }
  }

  private static void run(int port, byte[] data, Path dir, int seconds) throws Exception {
    String url = "iscsi://127.0.0.1:" + port + "/" + IQN + "/1";
    double mib = data.length / (double) MIB;
    System.out.printf("iSCSI initiator benchmark: tgtd LUN of %.0f MiB in /dev/shm%n", mib);
    try (IscsiSession session = IscsiSession.login(InitiatorConfig.of("127.0.0.1", port, IQN))) {
      ScsiDisk disk = ScsiDisk.open(session, 1);
      System.out.println("negotiated: " + session.parameters());
      int requests = data.length / MIB;
      double[] write =
          alternate(() -> timeSeq(disk, data, true), () -> qemuBench(url, true, requests));
      report("sequential write (MiB/s)", mib / write[0], mib / write[1]);
      timeSeq(disk, data, true); // qemu-img bench wrote last: put our data back, then check it
      byte[] back = new byte[data.length];
      disk.read(ByteBuffer.wrap(back), 0);
      if (!Arrays.equals(back, data)) {
        throw new IllegalStateException("the LUN does not hold what was written");
      }
      double[] read =
          alternate(() -> timeSeq(disk, data, false), () -> qemuBench(url, false, requests));
      report("sequential read (MiB/s)", mib / read[0], mib / read[1]);
      // IOPS as "seconds per million reads", so that the median of alternating runs works alike
      double[] random =
          alternate(
              () -> 1e6 / randomReads(disk, data.length, seconds),
              () -> 1e6 / iscsiPerf(url, seconds, true, 8));
      double oursIops = 1e6 / random[0];
      double refIops = 1e6 / random[1];
      report("random 4 KiB read, 8 in flight (IOPS)", oursIops, refIops);
    }
  }

  private interface Timed {
    double seconds() throws Exception;
  }

  /**
   * Runs ours and the reference alternately {@value #RUNS} times each, so that load from other
   * processes on the machine hits both alike; returns the two medians.
   */
  private static double[] alternate(Timed ours, Timed reference) throws Exception {
    double[] a = new double[RUNS];
    double[] b = new double[RUNS];
    for (int i = 0; i < RUNS; i++) {
      a[i] = ours.seconds();
      b[i] = reference.seconds();
    }
    Arrays.sort(a);
    Arrays.sort(b);
    return new double[] {a[RUNS / 2], b[RUNS / 2]};
  }

  private static double timeSeq(ScsiDisk disk, byte[] data, boolean write) throws IOException {
    int request = 8 * MIB;
    ByteBuffer buffer = write ? ByteBuffer.wrap(data) : ByteBuffer.allocate(data.length);
    long start = System.nanoTime();
    for (int at = 0; at < data.length; at += request) {
      ByteBuffer part = buffer.duplicate().position(at).limit(Math.min(data.length, at + request));
      if (write) {
        disk.write(part, at);
      } else {
        disk.read(part, at);
      }
    }
    if (write) {
      disk.flush();
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private static double randomReads(ScsiDisk disk, long size, int seconds) throws Exception {
    int threads = 8;
    LongAdder done = new LongAdder();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<?>> futures = new ArrayList<>();
    long start = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int seed = t;
      futures.add(
          pool.submit(
              () -> {
                Random random = new Random(seed);
                ByteBuffer b = ByteBuffer.allocate(4096);
                long blocks = size / 4096;
                while (System.nanoTime() < end) {
                  b.clear();
                  disk.read(b, (long) (random.nextDouble() * blocks) * 4096);
                  done.increment();
                }
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    return done.sum() / elapsed;
  }

  private static final Pattern AVERAGE = Pattern.compile("iops average (\\d+)");

  /**
   * libiscsi's iscsi-perf for {@code seconds} with 8 requests of {@code blocks} blocks in flight,
   * stopped with SIGINT; its last average IOPS.
   */
  private static double iscsiPerf(String url, int seconds, boolean random, int blocks)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "timeout",
                "-s",
                "INT",
                Integer.toString(seconds),
                "iscsi-perf",
                "-b",
                Integer.toString(blocks),
                "-m",
                "8",
                "-i",
                "iqn.2024-01.org.xsm.bench:perf"));
    if (random) {
      cmd.add("-r");
    }
    cmd.add(url);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    Matcher m = AVERAGE.matcher(out);
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    if (last == null) {
      throw new IOException("iscsi-perf printed no average: " + out);
    }
    return Double.parseDouble(last);
  }

  private static final Pattern COMPLETED = Pattern.compile("Run completed in ([0-9.]+) seconds");

  /**
   * {@code qemu-img bench} (libiscsi underneath): {@code requests} sequential 1 MiB requests, 8 in
   * parallel; the time it reports itself (without starting the process).
   */
  private static double qemuBench(String url, boolean write, int requests) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "qemu-img",
                "bench",
                "-f",
                "raw",
                "-c",
                Integer.toString(requests),
                "-d",
                "8",
                "-s",
                "1M"));
    if (write) {
      cmd.add("-w");
    }
    cmd.add(url);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
    Matcher m = COMPLETED.matcher(out);
    if (!m.find()) {
      throw new IOException("qemu-img bench printed no time: " + out);
    }
    return Double.parseDouble(m.group(1));
  }

  private static void report(String what, double ours, double reference) {
    System.out.printf(
        "%-40s xsm %10.1f   libiscsi %10.1f   ratio %.2f%n",
        what, ours, reference, ours / reference);
  }
}
