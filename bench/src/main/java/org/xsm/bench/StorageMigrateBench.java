package org.xsm.bench;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Live storage migration on the packaged server: a VDI (4 GiB by default) written whole through NBD
 * on the local EXT SR, attached to a running (simulated) VM, moved by {@code VDI.pool_migrate} to a
 * second EXT SR while a writer keeps writing 64 KiB blocks at random places through the running
 * disk's NBD export (TLS), as a guest would. Printed: the move's seconds and MB/s, the writes
 * acknowledged during it, and how long guest I/O was held at the switch (from the server's log).
 * Then every 64 KiB block of the moved disk is read back through NBD and compared with what was
 * written last there (the writer's pattern or the initial one).
 */
public final class StorageMigrateBench {
  private static final int MIB = 1 << 20;
  private static final int BLOCK = 64 * 1024;
  private static final Pattern HELD =
      Pattern.compile("guest I/O held ([0-9.]+) ms for device switch");

  public static void main(String[] args) throws Exception {
    String jar = "xapi-server/target/quarkus-app/quarkus-run.jar";
    long sizeMib = 4096;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--jar" -> jar = args[++i];
        case "--size-mib" -> sizeMib = Long.parseLong(args[++i]);
        default -> {
          System.err.println(
              "usage: StorageMigrateBench [--jar quarkus-run.jar] [--size-mib 4096]");
          System.exit(2);
        }
      }
    }
    ServerProcess server =
        new ServerProcess(
            jar, Map.of("XSM_GC_QUIET_PERIOD_MS", "86400000", "XSM_DOMAINS", "simulator"));
    int rc = 1;
    boolean keep = false;
    try {
      server.start();
      rc = run(server, sizeMib * MIB);
    } catch (Exception e) {
      e.printStackTrace();
      System.err.println("bench: failed; server data and log kept: " + server.data());
      keep = true;
    } finally {
      server.keepData(keep);
      server.close();
    }
    System.exit(rc);
  }

  /** The initial content of a 64 KiB block (a byte from its index, never zero). */
  private static byte initial(long block) {
    return (byte) (1 + block % 251);
  }

  private static int run(ServerProcess server, long size) throws Exception {
    JsonRpc rpc = new JsonRpc(server.base());
    String s = rpc.ref("session.login_with_password", "root", ServerProcess.PASSWORD, "2.21");
    String pool = rpc.ref("pool.get_all", s);
    String sr = rpc.ref("pool.get_default_SR", s, pool);
    String host = rpc.ref("host.get_all", s);
    Path dir = server.data().resolveSibling(server.data().getFileName() + "-sr2");
    Files.createDirectories(dir);
    String dest =
        rpc.ref(
            "SR.create",
            s,
            host,
            Map.of("path", dir.toAbsolutePath().toString()),
            0,
            "target",
            "",
            "ext",
            "user",
            false,
            Map.of());
    String vdi =
        rpc.ref(
            "VDI.create",
            s,
            Map.of("SR", sr, "virtual_size", size, "name_label", "moving", "type", "user"));
    System.out.printf(
        "Storage migration benchmark: %,d MiB VDI, local EXT SR -> another EXT SR on the same disk,"
            + " packaged server (pid %d); %d CPUs shared by writer and server; load %s%n",
        size / MIB, server.pid(), Runtime.getRuntime().availableProcessors(), load());
    long t0 = System.nanoTime();
    try (NbdClient nbd = NbdClient.open(NbdTargets.of(rpc, s, vdi))) {
      byte[] buf = new byte[2 * MIB];
      for (long off = 0; off < size; off += buf.length) {
        for (int i = 0; i < buf.length / BLOCK; i++) {
          java.util.Arrays.fill(buf, i * BLOCK, (i + 1) * BLOCK, initial(off / BLOCK + i));
        }
        nbd.write(off, buf);
      }
      nbd.flush();
    }
    System.out.printf(
        "setup: written whole through NBD in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    String vm =
        rpc.ref(
            "VM.create",
            s,
            Map.of(
                "name_label",
                "moving vm",
                "memory_static_max",
                268435456L,
                "memory_dynamic_max",
                268435456L,
                "memory_dynamic_min",
                268435456L,
                "memory_static_min",
                268435456L));
    rpc.ref(
        "VBD.create",
        s,
        Map.of(
            "VM",
            vm,
            "VDI",
            vdi,
            "userdevice",
            "0",
            "mode",
            "RW",
            "type",
            "Disk",
            "bootable",
            true));
    rpc.call("VM.start", s, vm, false, false);

    // The writer: 64 KiB at random blocks, each acknowledged write remembered, until told to stop.
    byte[] last = new byte[(int) (size / BLOCK)]; // 0: the initial content
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong writes = new AtomicLong();
    NbdClient.Target live = NbdTargets.of(rpc, s, vdi);
    Thread writer =
        new Thread(
            () -> {
              java.util.Random r = new java.util.Random(21);
              byte[] data = new byte[BLOCK];
              try (NbdClient nbd = NbdClient.open(live)) {
                while (!stop.get()) {
                  int b = r.nextInt(last.length);
                  byte v = (byte) (1 + r.nextInt(255));
                  java.util.Arrays.fill(data, v);
                  nbd.write((long) b * BLOCK, data);
                  last[b] = v;
                  writes.incrementAndGet();
                }
                nbd.flush();
              } catch (java.io.IOException e) {
                throw new IllegalStateException("the writer's I/O failed during the move", e);
              }
            },
            "writer");
    List<Throwable> writerFailure = new ArrayList<>();
    writer.setUncaughtExceptionHandler((t, e) -> writerFailure.add(e));
    writer.start();
    long w0 = writes.get();
    t0 = System.nanoTime();
    String moved = rpc.ref("VDI.pool_migrate", s, vdi, dest, Map.of());
    double seconds = (System.nanoTime() - t0) / 1e9;
    long during = writes.get() - w0;
    stop.set(true);
    writer.join();
    if (!writerFailure.isEmpty()) {
      throw new IllegalStateException("writer failed", writerFailure.get(0));
    }
    Matcher held =
        HELD.matcher(
            Files.readString(server.data().resolveSibling(server.data().getFileName() + ".log")));
    String heldMs = "unknown";
    while (held.find()) {
      heldMs = held.group(1);
    }
    System.out.printf(
        "move: %,d MiB in %.2f s (%.0f MB/s) while %,d writes of 64 KiB (%.0f MB/s) were"
            + " acknowledged; guest I/O held %s ms at the switch%n",
        size / MIB, seconds, size / seconds / 1e6, during, during * BLOCK / seconds / 1e6, heldMs);

    // Every block of the moved disk: the last write there, or the initial content.
    List<NbdClient.Range> all = new ArrayList<>();
    for (long off = 0; off < size; off += 2 * MIB) {
      all.add(new NbdClient.Range(off, 2 * MIB));
    }
    long[] bad = {0};
    try (NbdClient nbd = NbdClient.open(NbdTargets.of(rpc, s, moved))) {
      nbd.read(
          all,
          8,
          (range, data) -> {
            for (int i = 0; i < data.length / BLOCK; i++) {
              long b = range.offset() / BLOCK + i;
              byte want = last[(int) b] == 0 ? initial(b) : last[(int) b];
              ByteBuffer blk = ByteBuffer.wrap(data, i * BLOCK, BLOCK);
              for (int k = 0; k < BLOCK; k++) {
                if (blk.get() != want) {
                  bad[0]++;
                  break;
                }
              }
            }
          });
    }
    System.out.printf(
        "check: %,d blocks of 64 KiB read back through NBD, %d wrong; load at the end %s%n",
        last.length, bad[0], load());
    return bad[0] == 0 ? 0 : 1;
  }

  private static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }
}
