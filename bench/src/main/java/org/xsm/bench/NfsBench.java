package org.xsm.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.xsm.nfs.NfsImageStore;
import org.xsm.nfs.NfsMount;
import org.xsm.nfs.NfsOptions;
import org.xsm.nfs.testing.GaneshaServer;
import org.xsm.plugins.store.ImageFile;

/**
 * NFS client benchmark: sequential write and read of one file through this project's NFSv3 client
 * (the NFS backend's image store) against libnfs's {@code nfs-cp} moving a file of the same size to
 * and from the same nfs-ganesha export, in the same run. Prints MB/s and our/nfs-cp ratios: each
 * figure is the median of eleven, ours and nfs-cp alternating (single runs of 1 GiB swing by 3x
 * here), each step started after a {@code sync}; every run's figures are printed too.
 *
 * <p>The write side ends durable on both sides: ours with the final COMMIT of {@code force()},
 * nfs-cp with its own writes. Reads follow the writes, so the server reads from its page cache for
 * both, and both copy into a local file. Every copy is compared with the source afterwards. Our
 * client is warmed up (64 MiB written and read, untimed) first, as it would be in a running server.
 * Needs root and nfs-ganesha, rpcbind and libnfs-utils installed; starts its own server.
 */
public final class NfsBench {
  private static final int MIB = 1024 * 1024;
  private static final int REQUEST = 8 * MIB;
  private static final int REPEATS = 11;

  private NfsBench() {}

  public static void main(String[] args) throws Exception {
    long sizeMib = 1024;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--size-mib") && i + 1 < args.length) {
        sizeMib = Long.parseLong(args[++i]);
      } else {
        System.err.println("usage: NfsBench [--size-mib N]");
        System.exit(2);
      }
    }
    String base = System.getenv().getOrDefault("XSM_BENCH_DIR", "bench/target/bench-data");
    Path work = Path.of(base).toAbsolutePath().resolve("nfs");
    deleteTree(work);
    Files.createDirectories(work);
    long size = sizeMib * MIB;
    try (GaneshaServer ganesha = GaneshaServer.start(work.resolve("ganesha"))) {
      run(ganesha, work, size);
    } finally {
      deleteTree(work);
    }
  }

  private static void run(GaneshaServer ganesha, Path work, long size) throws Exception {
    System.out.printf(
        "NFS client benchmark: %d MiB sequential, %d MiB requests, nfs-ganesha on 127.0.0.1%n",
        size / MIB, REQUEST / MIB);
    byte[] pattern = new byte[REQUEST];
    new Random(1).nextBytes(pattern);
    Path source = work.resolve("source.bin");
    try (FileChannel ch =
        FileChannel.open(source, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long off = 0; off < size; off += REQUEST) {
        ch.write(ByteBuffer.wrap(pattern), off);
      }
    }
    NfsMount mount = NfsMount.open("127.0.0.1", GaneshaServer.EXPORT, NfsOptions.DEFAULT);
    try {
      System.out.printf(
          "  transfer sizes from FSINFO: READ %d KiB, WRITE %d KiB%n",
          mount.readSize() / 1024, mount.writeSize() / 1024);
      NfsImageStore store = mount.store(mount.root(), "");
      // Untimed warm-up of our client (JIT), as in a long-running server; nfs-cp is native code.
      writeOurs(store, pattern, 64L * MIB, "warm-up.bin");
      readOurs(store, 64L * MIB, "warm-up.bin", work.resolve("warm-up-copy.bin"));
      store.delete("warm-up.bin");

      double[] oursWrite = new double[REPEATS];
      double[] cpWrite = new double[REPEATS];
      double[] oursRead = new double[REPEATS];
      double[] cpRead = new double[REPEATS];
      Path oursFile = ganesha.exportDir().resolve("ours.bin");
      Path cpFile = ganesha.exportDir().resolve("nfs-cp.bin");
      // Both reads copy into a local file, as nfs-cp must (it cannot write to /dev/null).
      Path oursCopy = work.resolve("ours-copy.bin");
      Path cpCopy = work.resolve("nfs-cp-copy.bin");
      for (int i = 0; i < REPEATS; i++) {
        final int rep = i;
        // Through the server, whose caches would not see a removal behind its back.
        for (String name : List.of("ours.bin", "nfs-cp.bin")) {
          if (store.exists(name)) {
            store.delete(name);
          }
        }
        Files.deleteIfExists(oursCopy);
        Files.deleteIfExists(cpCopy);
        // Ours and nfs-cp alternate, which goes first too, so that load from elsewhere falls on
        // both alike; each step starts with no dirty pages left by the one before (sync).
        Step ow = () -> oursWrite[rep] = seconds(() -> writeOurs(store, pattern, size, "ours.bin"));
        Step cw =
            () ->
                cpWrite[rep] =
                    seconds(() -> tool("nfs-cp", source.toString(), ganesha.url("nfs-cp.bin")));
        Step or = () -> oursRead[rep] = seconds(() -> readOurs(store, size, "ours.bin", oursCopy));
        Step cr =
            () ->
                cpRead[rep] =
                    seconds(() -> tool("nfs-cp", ganesha.url("nfs-cp.bin"), cpCopy.toString()));
        List<Step> steps = i % 2 == 0 ? List.of(ow, cw, or, cr) : List.of(cw, ow, cr, or);
        for (Step step : steps) {
          tool("sync");
          step.run();
        }
        for (Path p : List.of(oursFile, cpFile, oursCopy, cpCopy)) {
          check(p, source);
        }
      }
      report("sequential write", size, oursWrite, cpWrite);
      report("sequential read", size, oursRead, cpRead);
    } finally {
      mount.client().close();
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s[s.length / 2];
  }

  private interface Step {
    void run() throws Exception;
  }

  private static double seconds(Step s) throws Exception {
    long t0 = System.nanoTime();
    s.run();
    return (System.nanoTime() - t0) / 1e9;
  }

  private static void writeOurs(NfsImageStore store, byte[] pattern, long size, String name)
      throws IOException {
    try (ImageFile f = store.create(name)) {
      for (long off = 0; off < size; off += REQUEST) {
        f.writeFully(ByteBuffer.wrap(pattern), off);
      }
      f.force();
    }
  }

  private static void readOurs(NfsImageStore store, long size, String name, Path copy)
      throws IOException {
    // A direct buffer, as an I/O application would use: no JDK copies to and from the heap.
    ByteBuffer b = ByteBuffer.allocateDirect(REQUEST);
    try (ImageFile f = store.open(name, false);
        FileChannel out =
            FileChannel.open(copy, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long off = 0; off < size; off += REQUEST) {
        b.clear();
        f.readFully(b, off);
        b.flip();
        while (b.hasRemaining()) {
          out.write(b);
        }
      }
    }
  }

  private static void tool(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + new String(out));
    }
  }

  private static void check(Path written, Path source) throws IOException {
    long at = Files.mismatch(written, source);
    if (at != -1) {
      throw new IOException(written + " differs from the source at byte " + at);
    }
  }

  private static void report(String what, long size, double[] ours, double[] cp) {
    double mb = size / 1e6;
    StringBuilder runs = new StringBuilder();
    for (int i = 0; i < ours.length; i++) {
      runs.append(String.format(" %.0f/%.0f", mb / ours[i], mb / cp[i]));
    }
    report(what, size, median(ours), median(cp));
    System.out.printf("    each run, ours/nfs-cp MB/s:%s%n", runs);
  }

  private static void report(String what, long size, double ours, double cp) {
    double mb = size / 1e6;
    System.out.printf(
        "  %-16s ours %8.1f MB/s (%.2f s)   nfs-cp %8.1f MB/s (%.2f s)   ratio ours/nfs-cp %.2f%n",
        what, mb / ours, ours, mb / cp, cp, cp / ours);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    List<Path> all = new ArrayList<>();
    try (var s = Files.walk(dir)) {
      s.forEach(all::add);
    }
    for (int i = all.size() - 1; i >= 0; i--) {
      Files.delete(all.get(i));
    }
  }
}
