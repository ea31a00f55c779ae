package org.xsm.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.store.DiskChain;
import org.xsm.plugins.store.LocalImageStore;

/**
 * The images the engine benchmarks read ({@link ImageBench}, {@link ChainCeilingBench}): a depth-1
 * disk and depth-10 chains built the same way in both, whole-disk reads, and the timing, median and
 * report helpers of their figures.
 */
final class BenchImages {
  private static final int MIB = 1024 * 1024;

  private BenchImages() {}

  /** Reads the whole disk of image {@code name} (and its parents), 1 MiB at a time. */
  static void readDisk(ImageFormat format, LocalImageStore store, String name) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(MIB);
    try (DiskChain c = format.open(store, name, false)) {
      for (long off = 0; off < c.virtualSizeBytes(); off += MIB) {
        b.clear();
        c.read(b, off);
      }
    }
  }

  interface LayerWriter {
    void write(int layer, DiskChain c) throws IOException;
  }

  /** Depth 1: {@code size} bytes of {@code chunk}, over and over, in one new image. */
  static void writeFlat(
      ImageFormat format, LocalImageStore store, String name, long size, byte[] chunk)
      throws IOException {
    format.create(store, name, size);
    try (DiskChain c = format.open(store, name, true)) {
      for (long off = 0; off < size; off += MIB) {
        c.write(ByteBuffer.wrap(chunk, 0, (int) Math.min(MIB, size - off)), off);
      }
    }
  }

  /**
   * Depth 10, interleaved: in every block, layer i ({@code prefix + i}) holds the 64 KiB runs r
   * with r % 10 == i.
   */
  static void buildRunChain(
      ImageFormat format, LocalImageStore store, String prefix, long size, byte[] chunk)
      throws IOException {
    buildChain(
        format,
        store,
        prefix,
        size,
        (layer, c) -> {
          ByteBuffer run = ByteBuffer.wrap(chunk, 0, 64 * 1024);
          for (long off = layer * 64L * 1024; off < size; off += 640L * 1024) {
            int n = (int) Math.min(64 * 1024, size - off);
            c.write(run.clear().limit(n), off);
          }
        });
  }

  static void buildChain(
      ImageFormat format, LocalImageStore store, String prefix, long size, LayerWriter w)
      throws IOException {
    String ext = format.extension();
    format.create(store, prefix + "0" + ext, size);
    for (int layer = 0; layer < 10; layer++) {
      if (layer > 0) {
        format.snapshot(store, prefix + layer + ext, prefix + (layer - 1) + ext);
      }
      try (DiskChain c = format.open(store, prefix + layer + ext, true)) {
        w.write(layer, c);
      }
    }
  }

  interface Io {
    void run() throws IOException;
  }

  static long time(Io io) throws IOException {
    long t = System.nanoTime();
    io.run();
    return System.nanoTime() - t;
  }

  static double mbps(long bytes, long nanos) {
    return bytes / 1e6 / (nanos / 1e9);
  }

  static double iops(int ops, long nanos) {
    return ops / (nanos / 1e9);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  static void report(String what, double ours, double ref, String unit, double target) {
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
