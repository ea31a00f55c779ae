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
 * Coalesce throughput: a 1 GiB child with half its blocks written is merged into its parent ({@link
 * Vhd#coalesce}, parent flushed), against copying the same number of bytes with {@link
 * FileChannel#transferTo} (and a force) on the same disk. Page cache dropped before each run when
 * possible (root). Median of three.
 */
public final class CoalesceBench {
  private static final int MIB = 1024 * 1024;

  private CoalesceBench() {}

  public static void main(String[] args) throws IOException {
    long size = 1024L * MIB;
    Path dir =
        Path.of(System.getenv().getOrDefault("XSM_BENCH_DIR", "bench/target/bench-data"))
            .toAbsolutePath();
    Files.createDirectories(dir);
    clean(dir);
    LocalImageStore store = LocalImageStore.open(dir);
    byte[] chunk = new byte[2 * MIB];
    new Random(1).nextBytes(chunk);
    long copied = 0;
    double[] ours = new double[3];
    double[] ref = new double[3];
    System.out.printf("Coalesce benchmark: 1 GiB child, half allocated, store %s%n", dir);
    for (int i = 0; i < 3; i++) {
      VhdCreator.createDynamic(store, "parent.vhd", size).close();
      try (VhdChain c = VhdChain.open(store, "parent.vhd", true)) {
        c.write(ByteBuffer.wrap(chunk), 0);
      }
      Vhd.snapshot(store, "child.vhd", "parent.vhd");
      try (VhdChain c = VhdChain.open(store, "child.vhd", true)) {
        for (long off = 0; off < size; off += 4L * MIB) {
          c.write(ByteBuffer.wrap(chunk), off);
        }
      }
      long half = size / 2;
      try (FileChannel f =
          FileChannel.open(
              dir.resolve("src.raw"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        for (long off = 0; off < half; off += chunk.length) {
          f.write(ByteBuffer.wrap(chunk), off);
        }
        f.force(false);
      }
      ImageBench.dropCachesIfRoot();
      long t0 = System.nanoTime();
      copied = Vhd.coalesce(store, "child.vhd");
      long t1 = System.nanoTime();
      ImageBench.dropCachesIfRoot();
      long t2 = System.nanoTime();
      try (FileChannel src = FileChannel.open(dir.resolve("src.raw"), StandardOpenOption.READ);
          FileChannel dst =
              FileChannel.open(
                  dir.resolve("dst.raw"),
                  StandardOpenOption.CREATE_NEW,
                  StandardOpenOption.WRITE)) {
        long pos = 0;
        while (pos < half) {
          pos += src.transferTo(pos, half - pos, dst);
        }
        dst.force(false);
      }
      long t3 = System.nanoTime();
      ours[i] = copied / 1e6 / ((t1 - t0) / 1e9);
      ref[i] = half / 1e6 / ((t3 - t2) / 1e9);
      clean(dir);
    }
    Arrays.sort(ours);
    Arrays.sort(ref);
    double ratio = ours[1] / ref[1];
    System.out.printf(
        "  %-58s %10.0f MB/s vs %10.0f MB/s  ratio %.2fx  target >= 0.7x: %s%n",
        "coalesce " + copied / MIB + " MiB into parent vs transferTo",
        ours[1],
        ref[1],
        ratio,
        ratio >= 0.7 ? "MET" : "MISSED");
  }

  private static void clean(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        Files.delete(p);
      }
    }
  }
}
