package org.xsm.bench;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.store.LocalImageStore;

/**
 * What the disk allows for the engine bench's cold depth-10 chain of 64 KiB runs ({@code
 * ./bench/run vhd-ceiling}, root only): the chain and its depth-1 twin are built as {@link
 * ImageBench} builds them, then the extents each file occupies on disk ({@code filefrag -v}: data
 * runs, sector bitmaps, metadata) are read directly, sorted by file and offset, N at a time, with
 * O_DIRECT and through the page cache, against the depth-1 file's extents in 4 MiB requests and the
 * engine's own cold reads of both. No engine can read the chain with fewer device requests than its
 * extents, so the extents' ratio is the ceiling for the engine's ratio. Each round drops the page
 * cache first; medians of {@code --rounds} (default 3).
 */
public final class ChainCeilingBench {
  private static final int MIB = 1024 * 1024;
  private static final Pattern EXTENT =
      Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\.\\.\\s*(\\d+):\\s+\\d+\\.\\.\\s*\\d+:\\s+(\\d+):");
  private static final Pattern BLOCK_SIZE = Pattern.compile("blocks of (\\d+) bytes");

  /** {@code length} bytes at {@code offset} of {@code file}. */
  private record Extent(Path file, long offset, int length) {}

  private ChainCeilingBench() {}

  public static void main(String[] args) throws Exception {
    int rounds = 3;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--rounds") && i + 1 < args.length) {
        rounds = Integer.parseInt(args[++i]);
      } else {
        System.err.println("usage: ChainCeilingBench [--rounds N]");
        System.exit(2);
      }
    }
    if (!ImageBench.dropCachesIfRoot()) {
      System.err.println("vhd-ceiling: needs root (drops the page cache)");
      System.exit(2);
    }
    int n = rounds;
    ImageBench.inCleanDir(dir -> run(dir, n));
  }

  private static void run(Path dir, int rounds) throws Exception {
    ImageFormat format = ImageFormat.VHD;
    LocalImageStore store = LocalImageStore.open(dir);
    long size = 256L * MIB;
    byte[] chunk = new byte[MIB];
    new Random(1).nextBytes(chunk);
    BenchImages.writeFlat(format, store, "flat.vhd", size, chunk);
    BenchImages.buildRunChain(format, store, "run", size, chunk);
    List<Extent> flat = extents(dir.resolve("flat.vhd"), 4 * MIB);
    List<Extent> runs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      runs.addAll(extents(dir.resolve("run" + i + ".vhd"), MIB));
    }
    System.out.printf(
        "vhd chain ceiling: 256 MiB disk; depth 1 in %d requests, depth-10 64 KiB runs in %d%n",
        flat.size(), runs.size());
    BenchImages.readDisk(format, store, "flat.vhd"); // the JIT, once
    BenchImages.readDisk(format, store, "run9.vhd");
    Map<String, double[]> mbps = new java.util.LinkedHashMap<>();
    for (int r = 0; r < rounds; r++) {
      note(
          mbps,
          "engine depth 1",
          r,
          rounds,
          size,
          () -> BenchImages.readDisk(format, store, "flat.vhd"));
      note(
          mbps,
          "engine depth 10",
          r,
          rounds,
          size,
          () -> BenchImages.readDisk(format, store, "run9.vhd"));
      note(
          mbps,
          "depth-1 extents, O_DIRECT, 4 in flight",
          r,
          rounds,
          size,
          () -> read(flat, 4, true));
      note(
          mbps,
          "chain extents, O_DIRECT, 16 in flight",
          r,
          rounds,
          size,
          () -> read(runs, 16, true));
      note(
          mbps,
          "chain extents, O_DIRECT, 32 in flight",
          r,
          rounds,
          size,
          () -> read(runs, 32, true));
      note(
          mbps,
          "chain extents, page cache, 16 in flight",
          r,
          rounds,
          size,
          () -> read(runs, 16, false));
    }
    double ref = median(mbps.get("depth-1 extents, O_DIRECT, 4 in flight"));
    double engineRef = median(mbps.get("engine depth 1"));
    for (Map.Entry<String, double[]> e : mbps.entrySet()) {
      double m = median(e.getValue());
      System.out.printf(
          "  %-42s %6.0f MB/s  %.2fx of depth-1 extents  %.2fx of engine depth 1%n",
          e.getKey(), m, m / ref, m / engineRef);
    }
  }

  private interface Io {
    void run() throws Exception;
  }

  private static void note(
      Map<String, double[]> mbps, String what, int round, int rounds, long bytes, Io io)
      throws Exception {
    ImageBench.dropCachesIfRoot();
    long t = System.nanoTime();
    io.run();
    mbps.computeIfAbsent(what, k -> new double[rounds])[round] =
        bytes / 1e6 / ((System.nanoTime() - t) / 1e9);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s[s.length / 2];
  }

  /**
   * The file's extents on disk ({@code filefrag -v}), in requests of at most {@code maxRequest}.
   */
  static List<Extent> extents(Path file, int maxRequest) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("filefrag", "-v", file.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("filefrag -v " + file + " failed: " + out);
    }
    Matcher bs = BLOCK_SIZE.matcher(out);
    if (!bs.find()) {
      throw new IOException("no block size in filefrag's output: " + out);
    }
    long block = Long.parseLong(bs.group(1));
    // O_DIRECT reads whole blocks; the last partial block of the file (the footer) is left out.
    long end = Files.size(file) / block * block;
    List<Extent> list = new ArrayList<>();
    for (String line : out.split("\n")) {
      Matcher m = EXTENT.matcher(line);
      if (!m.find()) {
        continue;
      }
      long from = Long.parseLong(m.group(1)) * block;
      long to = Math.min(end, (Long.parseLong(m.group(2)) + 1) * block);
      for (long at = from; at < to; at += maxRequest) {
        list.add(new Extent(file, at, (int) Math.min(maxRequest, to - at)));
      }
    }
    return list;
  }

  /** Reads the extents in file and offset order, {@code inFlight} at a time. */
  private static void read(List<Extent> extents, int inFlight, boolean direct) throws Exception {
    List<Extent> sorted = new ArrayList<>(extents);
    sorted.sort(Comparator.comparing(Extent::file).thenComparingLong(Extent::offset));
    Map<Path, FileChannel> files = new HashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(inFlight);
    try {
      for (Extent e : sorted) {
        if (!files.containsKey(e.file())) {
          files.put(
              e.file(),
              direct
                  ? FileChannel.open(e.file(), StandardOpenOption.READ, ExtendedOpenOption.DIRECT)
                  : FileChannel.open(e.file(), StandardOpenOption.READ));
        }
      }
      int largest = sorted.stream().mapToInt(Extent::length).max().orElse(0);
      AtomicInteger next = new AtomicInteger();
      List<Future<?>> work = new ArrayList<>();
      for (int t = 0; t < inFlight; t++) {
        work.add(
            pool.submit(
                () -> {
                  ByteBuffer b = ByteBuffer.allocateDirect(largest + 4096).alignedSlice(4096);
                  for (int k = next.getAndIncrement();
                      k < sorted.size();
                      k = next.getAndIncrement()) {
                    Extent e = sorted.get(k);
                    FileChannel ch = files.get(e.file());
                    b.clear().limit(e.length());
                    while (b.hasRemaining() && ch.read(b, e.offset() + b.position()) > 0) {
                      // until the extent is read (or the file ends)
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : work) {
        try {
          f.get();
        } catch (ExecutionException x) {
          throw new IOException("extent read failed", x.getCause());
        }
      }
    } finally {
      pool.shutdownNow();
      for (FileChannel ch : files.values()) {
        ch.close();
      }
    }
  }
}
