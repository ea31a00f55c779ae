package org.xsm.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.Vhd;
import org.xsm.plugins.vhd.VhdChain;
import org.xsm.plugins.vhd.VhdCreator;

/**
 * VHD engine benchmark. Every figure is measured against a reference run in the same process on the
 * same store, and reported as a ratio:
 *
 * <ul>
 *   <li>sequential write and read of a dynamic VHD (1 MiB requests) vs the same I/O on a raw file;
 *   <li>read of a depth-10 chain vs a depth-1 disk of the same content, with the data spread over
 *       the layers by whole blocks and, harder, by 64 KiB runs within every block;
 *   <li>random 4 KiB read and write IOPS on an allocated VHD vs a raw file.
 * </ul>
 *
 * Each measurement is repeated and the median taken. Reads run warm (page cache) for both sides.
 */
public final class VhdBench {
  private static final int MIB = 1024 * 1024;
  private static final int REPEATS = 3;

  private final Path dir;
  private final LocalImageStore store;
  private final long sizeBytes;
  private final byte[] chunk = new byte[MIB];

  private VhdBench(Path dir, long sizeBytes) throws IOException {
    this.dir = dir;
    this.store = LocalImageStore.open(dir);
    this.sizeBytes = sizeBytes;
    new Random(1).nextBytes(chunk);
  }

  public static void main(String[] args) throws IOException {
    long sizeMib = 1024;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--size-mib") && i + 1 < args.length) {
        sizeMib = Long.parseLong(args[++i]);
      } else {
        System.err.println("usage: VhdBench [--size-mib N]");
        System.exit(2);
      }
    }
    String base = System.getenv().getOrDefault("XSM_BENCH_DIR", "bench/target/bench-data");
    Path dir = Path.of(base).toAbsolutePath();
    Files.createDirectories(dir);
    clean(dir);
    try {
      new VhdBench(dir, sizeMib * MIB).run();
    } finally {
      clean(dir);
    }
  }

  private static void clean(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        Files.delete(p);
      }
    }
  }

  private void run() throws IOException {
    System.out.printf("VHD engine benchmark: %d MiB disk, store %s%n", sizeBytes / MIB, dir);
    sequential();
    chains();
    random();
  }

  // ---- sequential ----

  private void sequential() throws IOException {
    double[] rawW = new double[REPEATS];
    double[] vhdW = new double[REPEATS];
    double[] rawR = new double[REPEATS];
    double[] vhdR = new double[REPEATS];
    for (int i = 0; i < REPEATS; i++) {
      rawW[i] = mbps(sizeBytes, time(() -> rawWrite("raw.img")));
      vhdW[i] = mbps(sizeBytes, time(() -> vhdWrite("disk.vhd")));
      readRaw("raw.img"); // warm both, then measure
      readVhd("disk.vhd");
      rawR[i] = mbps(sizeBytes, time(() -> readRaw("raw.img")));
      vhdR[i] = mbps(sizeBytes, time(() -> readVhd("disk.vhd")));
      Files.delete(dir.resolve("raw.img"));
      if (i < REPEATS - 1) {
        store.delete("disk.vhd");
      }
    }
    report("sequential write (1 MiB, + flush)", median(vhdW), median(rawW), "MB/s", 0.8);
    report("sequential read  (1 MiB, page cache)", median(vhdR), median(rawR), "MB/s", 0.8);
    rawWrite("raw.img");
    if (dropCaches()) {
      for (int i = 0; i < REPEATS; i++) {
        dropCaches();
        rawR[i] = mbps(sizeBytes, time(() -> readRaw("raw.img")));
        dropCaches();
        vhdR[i] = mbps(sizeBytes, time(() -> readVhd("disk.vhd")));
      }
      report("sequential read  (1 MiB, cold)", median(vhdR), median(rawR), "MB/s", 0.8);
    } else {
      System.out.println(
          "  (cold reads skipped: /proc/sys/vm/drop_caches not writable; run as root)");
    }
    Files.delete(dir.resolve("raw.img"));
  }

  /** Drops the page cache if this process may (root); used by the other benchmarks too. */
  static boolean dropCachesIfRoot() {
    return dropCaches();
  }

  /** Drops the page cache (root only), so that reads measure the disk. */
  private static boolean dropCaches() {
    try {
      new ProcessBuilder("sync").inheritIO().start().waitFor();
      Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "1");
      return true;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void rawWrite(String name) throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            dir.resolve(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long off = 0; off < sizeBytes; off += MIB) {
        ch.write(ByteBuffer.wrap(chunk), off);
      }
      ch.force(false);
    }
  }

  private void vhdWrite(String name) throws IOException {
    VhdCreator.createDynamic(store, name, sizeBytes).close();
    try (VhdChain c = VhdChain.open(store, name, true)) {
      for (long off = 0; off < sizeBytes; off += MIB) {
        c.write(ByteBuffer.wrap(chunk), off);
      }
      c.flush();
    }
  }

  private void readRaw(String name) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(MIB);
    try (FileChannel ch = FileChannel.open(dir.resolve(name), StandardOpenOption.READ)) {
      for (long off = 0; off < sizeBytes; off += MIB) {
        b.clear();
        while (b.hasRemaining()) {
          ch.read(b, off + b.position());
        }
      }
    }
  }

  private void readVhd(String name) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(MIB);
    try (VhdChain c = VhdChain.open(store, name, false)) {
      for (long off = 0; off < c.virtualSizeBytes(); off += MIB) {
        b.clear();
        c.read(b, off);
      }
    }
  }

  // ---- chains ----

  private void chains() throws IOException {
    long size = Math.min(sizeBytes, 256L * MIB);
    int blocks = (int) (size / (2 * MIB));
    // Depth 1: every block written in one file.
    VhdCreator.createDynamic(store, "flat.vhd", size).close();
    try (VhdChain c = VhdChain.open(store, "flat.vhd", true)) {
      for (long off = 0; off < size; off += MIB) {
        c.write(ByteBuffer.wrap(chunk), off);
      }
    }
    // Depth 10, whole blocks: layer i holds the blocks b with b % 10 == i.
    buildChain(
        "blk",
        size,
        (layer, c) -> {
          for (int b = layer; b < blocks; b += 10) {
            c.write(ByteBuffer.wrap(chunk), b * 2L * MIB);
            c.write(ByteBuffer.wrap(chunk), b * 2L * MIB + MIB);
          }
        });
    // Depth 10, interleaved: in every block, layer i holds the 64 KiB runs r with r % 10 == i.
    buildChain(
        "run",
        size,
        (layer, c) -> {
          ByteBuffer run = ByteBuffer.wrap(chunk, 0, 64 * 1024);
          for (long off = layer * 64L * 1024; off < size; off += 640L * 1024) {
            int n = (int) Math.min(64 * 1024, size - off);
            c.write(run.clear().limit(n), off);
          }
        });
    double[] flat = new double[REPEATS];
    double[] blk = new double[REPEATS];
    double[] run = new double[REPEATS];
    readVhd("flat.vhd");
    readVhd("blk9.vhd");
    readVhd("run9.vhd");
    for (int i = 0; i < REPEATS; i++) {
      flat[i] = mbps(size, time(() -> readVhd("flat.vhd")));
      blk[i] = mbps(size, time(() -> readVhd("blk9.vhd")));
      run[i] = mbps(size, time(() -> readVhd("run9.vhd")));
    }
    report(
        "chain read, depth 10 (whole blocks per layer) vs depth 1",
        median(blk),
        median(flat),
        "MB/s",
        0.7);
    report(
        "chain read, depth 10 (64 KiB runs per layer)   vs depth 1",
        median(run),
        median(flat),
        "MB/s",
        0.0);
    if (dropCaches()) {
      for (int i = 0; i < REPEATS; i++) {
        dropCaches();
        flat[i] = mbps(size, time(() -> readVhd("flat.vhd")));
        dropCaches();
        blk[i] = mbps(size, time(() -> readVhd("blk9.vhd")));
        dropCaches();
        run[i] = mbps(size, time(() -> readVhd("run9.vhd")));
      }
      report(
          "cold chain read, depth 10 (whole blocks)  vs depth 1",
          median(blk),
          median(flat),
          "MB/s",
          0.7);
      report(
          "cold chain read, depth 10 (64 KiB runs)   vs depth 1",
          median(run),
          median(flat),
          "MB/s",
          0.0);
    }
  }

  private interface LayerWriter {
    void write(int layer, VhdChain c) throws IOException;
  }

  private void buildChain(String prefix, long size, LayerWriter w) throws IOException {
    VhdCreator.createDynamic(store, prefix + "0.vhd", size).close();
    for (int layer = 0; layer < 10; layer++) {
      if (layer > 0) {
        Vhd.snapshot(store, prefix + layer + ".vhd", prefix + (layer - 1) + ".vhd");
      }
      try (VhdChain c = VhdChain.open(store, prefix + layer + ".vhd", true)) {
        w.write(layer, c);
      }
    }
  }

  // ---- random ----

  private void random() throws IOException {
    int ops = 50_000;
    // disk.vhd (fully written by the sequential part) and a raw file of the same content.
    rawWrite("raw.img");
    // Both sides start cold where the page cache can be dropped, warm (read once) otherwise.
    boolean cold = dropCaches();
    if (!cold) {
      readRaw("raw.img");
      readVhd("disk.vhd");
    }
    double rawRead = iops(ops, time(() -> randomRaw("raw.img", ops, false)));
    dropCaches();
    double vhdRead = iops(ops, time(() -> randomVhd("disk.vhd", ops, false)));
    dropCaches();
    double rawWrite = iops(ops, time(() -> randomRaw("raw.img", ops, true)));
    dropCaches();
    double vhdWrite = iops(ops, time(() -> randomVhd("disk.vhd", ops, true)));
    String state = cold ? ", cold" : ", page cache";
    report("random 4 KiB read" + state, vhdRead, rawRead, "IOPS", 0.0);
    report("random 4 KiB write (+ one flush)" + state, vhdWrite, rawWrite, "IOPS", 0.0);
    double alloc = iops(2000, time(() -> randomAllocating(2000)));
    System.out.printf(
        "  %-58s %10.0f IOPS (each allocates a 2 MiB block)%n",
        "random 4 KiB write into an empty VHD", alloc);
  }

  private void randomRaw(String name, int ops, boolean write) throws IOException {
    Random r = new Random(3);
    ByteBuffer b = ByteBuffer.allocate(4096);
    try (FileChannel ch =
        FileChannel.open(dir.resolve(name), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      for (int i = 0; i < ops; i++) {
        long off = 4096L * r.nextInt((int) (sizeBytes / 4096));
        b.clear();
        if (write) {
          ch.write(b, off);
        } else {
          ch.read(b, off);
        }
      }
      if (write) {
        ch.force(false);
      }
    }
  }

  private void randomVhd(String name, int ops, boolean write) throws IOException {
    Random r = new Random(3);
    ByteBuffer b = ByteBuffer.allocate(4096);
    try (VhdChain c = VhdChain.open(store, name, write)) {
      for (int i = 0; i < ops; i++) {
        long off = 4096L * r.nextInt((int) (sizeBytes / 4096));
        b.clear();
        if (write) {
          c.write(b, off);
        } else {
          c.read(b, off);
        }
      }
      c.flush();
    }
  }

  private void randomAllocating(int ops) throws IOException {
    VhdCreator.createDynamic(store, "empty.vhd", sizeBytes).close();
    Random r = new Random(4);
    ByteBuffer b = ByteBuffer.allocate(4096);
    try (VhdChain c = VhdChain.open(store, "empty.vhd", true)) {
      for (int i = 0; i < ops; i++) {
        c.write(b.clear(), 4096L * r.nextInt((int) (sizeBytes / 4096)));
      }
      c.flush();
    }
  }

  // ---- helpers ----

  private interface Io {
    void run() throws IOException;
  }

  private static long time(Io io) throws IOException {
    long t = System.nanoTime();
    io.run();
    return System.nanoTime() - t;
  }

  private static double mbps(long bytes, long nanos) {
    return bytes / 1e6 / (nanos / 1e9);
  }

  private static double iops(int ops, long nanos) {
    return ops / (nanos / 1e9);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static void report(String what, double ours, double ref, String unit, double target) {
    double ratio = ours / ref;
    String verdict =
        target > 0
            ? String.format("target >= %.1fx: %s", target, ratio >= target ? "MET" : "MISSED")
            : "";
    System.out.printf(
        "  %-58s %10.0f %s vs %10.0f %s  ratio %.2fx  %s%n",
        what, ours, unit, ref, unit, ratio, verdict);
  }
}
