package org.xsm.bench;

import static org.xsm.bench.BenchImages.iops;
import static org.xsm.bench.BenchImages.mbps;
import static org.xsm.bench.BenchImages.median;
import static org.xsm.bench.BenchImages.report;
import static org.xsm.bench.BenchImages.time;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.stream.Stream;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.store.DiskChain;
import org.xsm.plugins.store.LocalImageStore;

/**
 * Image engine benchmark, for either format ({@code ./bench/run vhd}, {@code ./bench/run qcow2}).
 * Every figure is measured against a reference run in the same process on the same store, and
 * reported as a ratio:
 *
 * <ul>
 *   <li>sequential write and read of a sparse image (1 MiB requests) vs the same I/O on a raw file;
 *   <li>read of a depth-10 chain vs a depth-1 disk of the same content, with the data spread over
 *       the layers by whole blocks and, harder, by 64 KiB runs within every block;
 *   <li>random 4 KiB read and write IOPS on an allocated image vs a raw file.
 * </ul>
 *
 * Each measurement is repeated and the median taken, after a warm-up round for the JIT. Reads run
 * warm (page cache) for both sides, and cold too when run as root.
 */
public final class ImageBench {
  private static final int MIB = 1024 * 1024;
  private static final int REPEATS = 3;

  private final Path dir;
  private final LocalImageStore store;
  private final long sizeBytes;
  private final ImageFormat format;
  private final byte[] chunk = new byte[MIB];

  private ImageBench(Path dir, long sizeBytes, ImageFormat format) throws IOException {
    this.dir = dir;
    this.format = format;
    this.store = LocalImageStore.open(dir);
    this.sizeBytes = sizeBytes;
    new Random(1).nextBytes(chunk);
  }

  public static void main(String[] args) throws Exception {
    long sizeMib = 1024;
    ImageFormat format = ImageFormat.VHD;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--size-mib") && i + 1 < args.length) {
        sizeMib = Long.parseLong(args[++i]);
      } else if (args[i].equals("--format") && i + 1 < args.length) {
        format = ImageFormat.parse(args[++i]);
      } else {
        System.err.println("usage: ImageBench [--format vhd|qcow2] [--size-mib N]");
        System.exit(2);
      }
    }
    long size = sizeMib * MIB;
    ImageFormat f = format;
    inCleanDir(dir -> new ImageBench(dir, size, f).run());
  }

  /** What a bench does in its data directory. */
  interface InDir {
    void run(Path dir) throws Exception;
  }

  /**
   * Runs {@code bench} in $XSM_BENCH_DIR (default bench/target/bench-data), emptied before and
   * after.
   */
  static void inCleanDir(InDir bench) throws Exception {
    String base = System.getenv().getOrDefault("XSM_BENCH_DIR", "bench/target/bench-data");
    Path dir = Path.of(base).toAbsolutePath();
    Files.createDirectories(dir);
    clean(dir);
    try {
      bench.run(dir);
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
    System.out.printf(
        "%s engine benchmark: %d MiB disk, store %s%n", format.wireName(), sizeBytes / MIB, dir);
    warmUp();
    sequential();
    chains();
    random();
  }

  /** A smaller round of every kind of I/O first, so that the JIT has compiled the engine. */
  private void warmUp() throws IOException {
    ImageBench small = new ImageBench(dir, Math.min(sizeBytes, 64L * MIB), format);
    small.imageWrite(small.file("warm"));
    for (int i = 0; i < 3; i++) {
      small.readImage(small.file("warm"));
      small.randomImage(small.file("warm"), 5000, false);
      small.randomImage(small.file("warm"), 5000, true);
    }
    store.delete(file("warm"));
  }

  /** The image file name of {@code stem} in this format. */
  private String file(String stem) {
    return stem + format.extension();
  }

  // ---- sequential ----

  private void sequential() throws IOException {
    double[] rawW = new double[REPEATS];
    double[] imgW = new double[REPEATS];
    double[] rawR = new double[REPEATS];
    double[] imgR = new double[REPEATS];
    for (int i = 0; i < REPEATS; i++) {
      rawW[i] = mbps(sizeBytes, time(() -> rawWrite("raw.img")));
      imgW[i] = mbps(sizeBytes, time(() -> imageWrite(file("disk"))));
      readRaw("raw.img"); // warm both, then measure
      readImage(file("disk"));
      rawR[i] = mbps(sizeBytes, time(() -> readRaw("raw.img")));
      imgR[i] = mbps(sizeBytes, time(() -> readImage(file("disk"))));
      Files.delete(dir.resolve("raw.img"));
      if (i < REPEATS - 1) {
        store.delete(file("disk"));
      }
    }
    report("sequential write (1 MiB, + flush)", median(imgW), median(rawW), "MB/s", 0.9);
    report("sequential read  (1 MiB, page cache)", median(imgR), median(rawR), "MB/s", 0.9);
    rawWrite("raw.img");
    if (dropCaches()) {
      for (int i = 0; i < REPEATS; i++) {
        dropCaches();
        rawR[i] = mbps(sizeBytes, time(() -> readRaw("raw.img")));
        dropCaches();
        imgR[i] = mbps(sizeBytes, time(() -> readImage(file("disk"))));
      }
      report("sequential read  (1 MiB, cold)", median(imgR), median(rawR), "MB/s", 0.9);
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

  private void imageWrite(String name) throws IOException {
    format.create(store, name, sizeBytes);
    try (DiskChain c = format.open(store, name, true)) {
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

  private void readImage(String name) throws IOException {
    BenchImages.readDisk(format, store, name);
  }

  // ---- chains ----

  private void chains() throws IOException {
    long size = Math.min(sizeBytes, 256L * MIB);
    int blocks = (int) (size / (2 * MIB));
    BenchImages.writeFlat(format, store, file("flat"), size, chunk);
    // Depth 10, whole blocks: layer i holds the blocks b with b % 10 == i.
    BenchImages.buildChain(
        format,
        store,
        "blk",
        size,
        (layer, c) -> {
          for (int b = layer; b < blocks; b += 10) {
            c.write(ByteBuffer.wrap(chunk), b * 2L * MIB);
            c.write(ByteBuffer.wrap(chunk), b * 2L * MIB + MIB);
          }
        });
    BenchImages.buildRunChain(format, store, "run", size, chunk);
    double[] flat = new double[REPEATS];
    double[] blk = new double[REPEATS];
    double[] run = new double[REPEATS];
    readImage(file("flat"));
    readImage(file("blk9"));
    readImage(file("run9"));
    for (int i = 0; i < REPEATS; i++) {
      flat[i] = mbps(size, time(() -> readImage(file("flat"))));
      blk[i] = mbps(size, time(() -> readImage(file("blk9"))));
      run[i] = mbps(size, time(() -> readImage(file("run9"))));
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
        0.7);
    if (dropCaches()) {
      // A cold round first, unmeasured: the JIT has not yet compiled the read-ahead's paths that
      // only cold reads take (handing read data over, claiming queued reads).
      for (String name : new String[] {"flat", "blk9", "run9"}) {
        dropCaches();
        readImage(file(name));
      }
      for (int i = 0; i < REPEATS; i++) {
        dropCaches();
        flat[i] = mbps(size, time(() -> readImage(file("flat"))));
        dropCaches();
        blk[i] = mbps(size, time(() -> readImage(file("blk9"))));
        dropCaches();
        run[i] = mbps(size, time(() -> readImage(file("run9"))));
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
          0.7);
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
      readImage(file("disk"));
    }
    double rawRead = iops(ops, time(() -> randomRaw("raw.img", ops, false)));
    dropCaches();
    double imgRead = iops(ops, time(() -> randomImage(file("disk"), ops, false)));
    dropCaches();
    double rawWrite = iops(ops, time(() -> randomRaw("raw.img", ops, true)));
    dropCaches();
    double imgWrite = iops(ops, time(() -> randomImage(file("disk"), ops, true)));
    String state = cold ? ", cold" : ", page cache";
    report("random 4 KiB read" + state, imgRead, rawRead, "IOPS", 0.9);
    report("random 4 KiB write (+ one flush)" + state, imgWrite, rawWrite, "IOPS", 0.0);
    double alloc = iops(2000, time(() -> randomAllocating(2000)));
    System.out.printf(
        "  %-58s %10.0f IOPS (each allocates a block or cluster)%n",
        "random 4 KiB write into an empty image", alloc);
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

  private void randomImage(String name, int ops, boolean write) throws IOException {
    Random r = new Random(3);
    ByteBuffer b = ByteBuffer.allocate(4096);
    try (DiskChain c = format.open(store, name, write)) {
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
    format.create(store, file("empty"), sizeBytes);
    Random r = new Random(4);
    ByteBuffer b = ByteBuffer.allocate(4096);
    try (DiskChain c = format.open(store, file("empty"), true)) {
      for (int i = 0; i < ops; i++) {
        c.write(b.clear(), 4096L * r.nextInt((int) (sizeBytes / 4096)));
      }
      c.flush();
    }
  }
}
