package org.xsm.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * Xen Orchestra's delta backup against the packaged server on its local EXT SR: a VDI (4 GiB by
 * default) written whole with non-zero data through NBD, CBT enabled, snapshot A; 5% of its 64 KiB
 * blocks changed by scattered 64 KiB..1 MiB writes, snapshot B. Then, each checked against the
 * known content:
 *
 * <ol>
 *   <li>the delta as XO takes it with NBD + CBT: {@code VDI.list_changed_blocks(A, B)} (must be
 *       exactly the blocks written), then NBD reads of exactly those 64 KiB blocks of B over TLS
 *       (the certificate and subject of {@code VDI.get_nbd_info}), each block's CRC32C compared;
 *   <li>a full NBD read of B (2 MiB requests), every 2 MiB CRC32C compared; the ratios of (a) to
 *       it;
 *   <li>{@code GET /export_raw_vdi?format=vhd&base=A} of B: bytes and seconds (a differencing VHD);
 *   <li>{@code GET /export_raw_vdi?format=raw} of B over plain HTTP and over HTTPS on loopback,
 *       each body's CRC32C compared with the image's; goal at least 1 GB/s plain.
 * </ol>
 *
 * The NBD client is {@link NbdClient} (ours, JDK only); downloads are {@link HttpDownload}.
 */
public final class BackupBench {
  private static final int MIB = 1 << 20;
  private static final int WINDOW = 16;
  private static final double GOAL_PLAIN_MB_S = 1000;
  private static final Pattern HTTPS_PORT = Pattern.compile("XenAPI over HTTPS on [^ ]+:(\\d+)");

  private final String jar;
  private final BackupImage image;
  private final long seed;
  private final int repeat;
  private ServerProcess server;
  private JsonRpc rpc;
  private String session;

  private BackupBench(String jar, long sizeMib, long seed, int repeat) {
    this.repeat = repeat;
    this.jar = jar;
    this.image = new BackupImage(sizeMib * MIB, seed);
    this.seed = seed;
  }

  public static void main(String[] args) throws Exception {
    String jar = "xapi-server/target/quarkus-app/quarkus-run.jar";
    long sizeMib = 4096;
    long seed = 18;
    boolean keep = false;
    int repeat = 2;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--jar" -> jar = args[++i];
        case "--size-mib" -> sizeMib = Long.parseLong(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--repeat" -> repeat = Integer.parseInt(args[++i]);
        case "--keep-data" -> keep = true;
        default -> {
          System.err.println(
              "usage: BackupBench [--jar quarkus-run.jar] [--size-mib 4096] [--seed N] [--repeat 2] [--keep-data]");
          System.exit(2);
        }
      }
    }
    BackupBench b = new BackupBench(jar, sizeMib, seed, repeat);
    int rc = 1;
    // The collector stays out of the figures: it gets a quiet period longer than the run.
    b.server = new ServerProcess(jar, Map.of("XSM_GC_QUIET_PERIOD_MS", "86400000"));
    try {
      b.server.start();
      rc = b.run();
    } catch (Exception e) {
      e.printStackTrace();
      System.err.println("bench: failed; server data and log kept: " + b.server.data());
      keep = true;
    } finally {
      b.server.keepData(keep);
      b.server.close();
    }
    System.exit(rc);
  }

  /** Where an NBD client reaches a VDI. */
  private NbdClient.Target nbdInfo(String vdi) throws Exception {
    return NbdTargets.of(rpc, session, vdi);
  }

  private int run() throws Exception {
    rpc = new JsonRpc(server.base());
    session = rpc.ref("session.login_with_password", "root", ServerProcess.PASSWORD, "2.21");
    String sr = rpc.ref("pool.get_default_SR", session, rpc.ref("pool.get_all", session));
    Matcher hp = HTTPS_PORT.matcher(Files.readString(logOf(server.data())));
    if (!hp.find()) {
      throw new IllegalStateException("the server's log names no HTTPS port");
    }
    int httpsPort = Integer.parseInt(hp.group(1));
    int httpPort = Integer.parseInt(server.base().substring(server.base().lastIndexOf(':') + 1));
    long size = image.sizeBytes();
    System.out.printf(
        "Backup benchmark: %,d MiB VDI on the local EXT SR of the packaged server (pid %d);"
            + " NBD client: xsm bench NbdClient (Java, TLS); %d CPUs shared by client and server;"
            + " load average %s%n",
        size / MIB, server.pid(), Runtime.getRuntime().availableProcessors(), loadAverage());

    String vdi =
        rpc.ref(
            "VDI.create",
            session,
            Map.of("SR", sr, "virtual_size", size, "name_label", "backup-bench", "type", "user"));
    NbdClient.Target live = nbdInfo(vdi);
    long t0 = System.nanoTime();
    try (NbdClient nbd = NbdClient.open(live)) {
      byte[] buf = new byte[2 * MIB];
      for (long off = 0; off < size; off += buf.length) {
        for (int i = 0; i < buf.length / BackupImage.BLOCK; i++) {
          image.block((int) (off / BackupImage.BLOCK) + i, 0, buf, i * BackupImage.BLOCK);
        }
        nbd.write(off, buf);
      }
      nbd.flush();
    }
    System.out.printf(
        "setup: written whole through NBD (%s) in %.1f s%n",
        live.certPem().isEmpty() ? "plain" : "TLS", (System.nanoTime() - t0) / 1e9);
    rpc.call("VDI.enable_cbt", session, vdi);
    String a = rpc.ref("VDI.snapshot", session, vdi, Map.of());
    long changedBytes = change(nbdInfo(vdi));
    String b = rpc.ref("VDI.snapshot", session, vdi, Map.of());
    BitSet changed = image.changed();
    System.out.printf(
        "setup: CBT on, snapshot A, %,d blocks of 64 KiB (%.1f%%) changed by scattered"
            + " 64 KiB..1 MiB writes (%,d bytes), snapshot B%n",
        changed.cardinality(), 100.0 * changed.cardinality() / image.blocks(), changedBytes);

    // (a) the delta through NBD + CBT
    t0 = System.nanoTime();
    String bitmap = rpc.string("VDI.list_changed_blocks", session, a, b);
    double cbtSeconds = (System.nanoTime() - t0) / 1e9;
    BitSet listed = BitSet.valueOf(reverseBits(Base64.getDecoder().decode(bitmap)));
    if (!listed.equals(changed)) {
      throw new IllegalStateException(
          "VDI.list_changed_blocks(A, B) lists "
              + listed.cardinality()
              + " blocks, not exactly the "
              + changed.cardinality()
              + " written");
    }
    NbdClient.Target snapB = nbdInfo(b);
    List<NbdClient.Range> blocks = new ArrayList<>();
    Map<Long, Integer> want = new HashMap<>();
    for (int i = listed.nextSetBit(0); i >= 0; i = listed.nextSetBit(i + 1)) {
      long off = (long) i * BackupImage.BLOCK;
      blocks.add(new NbdClient.Range(off, BackupImage.BLOCK));
      want.put(off, BackupImage.crc(image.current(off, BackupImage.BLOCK), 0, BackupImage.BLOCK));
    }
    Read delta = nbdRead(snapB, blocks, (r, d) -> want.get(r.offset()));
    // (b) a full read of B through NBD
    BackupImage.Sums sums = image.sums(2 * MIB);
    List<NbdClient.Range> all = new ArrayList<>();
    for (long off = 0; off < size; off += 2 * MIB) {
      all.add(new NbdClient.Range(off, 2 * MIB));
    }
    Read full = nbdRead(snapB, all, (r, d) -> sums.chunks()[(int) (r.offset() / (2 * MIB))]);
    System.out.printf(
        "%n(a) delta by NBD + CBT (TLS, %d reads of 64 KiB in flight): list_changed_blocks %.3f s;"
            + " %,d blocks, %,d bytes read in %.2f s (%.0f MB/s); with the call %.2f s%n",
        WINDOW,
        cbtSeconds,
        blocks.size(),
        delta.bytes,
        delta.seconds,
        delta.bytes / delta.seconds / 1e6,
        delta.seconds + cbtSeconds);
    System.out.printf(
        "(b) full read of B by NBD (TLS, 2 MiB reads, %d in flight): %,d bytes in %.2f s (%.0f MB/s)%n",
        WINDOW, full.bytes, full.seconds, full.bytes / full.seconds / 1e6);
    System.out.printf(
        "    (a)/(b): bytes %.4f, time %.4f (with list_changed_blocks %.4f); every block checked%n",
        (double) delta.bytes / full.bytes,
        delta.seconds / full.seconds,
        (delta.seconds + cbtSeconds) / full.seconds);

    // (c) the differencing VHD xapi's way, checked by applying it onto a clone of A
    String q = "?session_id=" + session + "&vdi=" + b;
    Path vhdFile = server.data().resolveSibling(server.data().getFileName() + "-delta.vhd");
    HttpDownload.Result vhd =
        HttpDownload.get(
            httpPort, "/export_raw_vdi" + q + "&format=vhd&base=" + a, null, null, vhdFile);
    String cookie = new String(vhd.tail(), 0, 8, StandardCharsets.US_ASCII);
    int diskType = java.nio.ByteBuffer.wrap(vhd.tail(), 60, 4).getInt();
    if (!cookie.equals("conectix") || diskType != 4) {
      throw new IllegalStateException(
          "the base= export is not a differencing VHD: " + cookie + " type " + diskType);
    }
    VhdPresence present = VhdPresence.of(vhdFile);
    String clone = rpc.ref("VDI.clone", session, a, Map.of());
    double applySeconds;
    try {
      long t1 = System.nanoTime();
      put(clone, vhdFile);
      applySeconds = (System.nanoTime() - t1) / 1e9;
      HttpDownload.Result applied =
          HttpDownload.get(
              httpPort,
              "/export_raw_vdi?session_id=" + session + "&vdi=" + clone + "&format=raw",
              null,
              null,
              null);
      check(applied, sums.whole(), "the base= VHD applied onto a clone of A");
    } finally {
      Files.deleteIfExists(vhdFile);
      rpc.call("VDI.destroy", session, clone);
    }
    System.out.printf(
        "(c) GET /export_raw_vdi?format=vhd&base=A of B: %,d bytes in %.2f s (%.0f MB/s; the client"
            + " writes it to a file); differencing VHD of 2 MiB blocks, %.1fx the NBD+CBT bytes;"
            + " applied onto a clone of A it gives B%n",
        vhd.bytes(), vhd.seconds(), vhd.mbPerSecond(), (double) vhd.bytes() / delta.bytes);
    System.out.printf(
        "    its %,d blocks mark %,d bytes present (%.2fx the NBD+CBT bytes; the rest of each block"
            + " reads from A); PUT onto a clone of A and applied in %.2f s%n",
        present.blocks(),
        present.presentBytes(),
        (double) present.presentBytes() / delta.bytes,
        applySeconds);

    // (d) full raw export, plain and TLS, best of --repeat runs each (the machine is shared)
    SSLContext tls = NbdClient.trusting(snapB.certPem());
    List<HttpDownload.Result> plain = new ArrayList<>();
    List<HttpDownload.Result> https = new ArrayList<>();
    for (int i = 0; i < repeat; i++) {
      plain.add(
          HttpDownload.get(httpPort, "/export_raw_vdi" + q + "&format=raw", null, null, null));
      https.add(
          HttpDownload.get(
              httpsPort, "/export_raw_vdi" + q + "&format=raw", tls, snapB.subject(), null));
    }
    for (HttpDownload.Result r : plain) {
      check(r, sums.whole(), "the raw export over HTTP");
    }
    for (HttpDownload.Result r : https) {
      check(r, sums.whole(), "the raw export over HTTPS");
    }
    double bestPlain =
        plain.stream().mapToDouble(HttpDownload.Result::mbPerSecond).max().orElseThrow();
    double bestTls =
        https.stream().mapToDouble(HttpDownload.Result::mbPerSecond).max().orElseThrow();
    System.out.printf(
        "(d) GET /export_raw_vdi?format=raw of B, loopback, best of %d: plain HTTP %,.0f MB/s,"
            + " HTTPS %,.0f MB/s; TLS/plain %.2f; every body's CRC32C = the disk's%n"
            + "    runs (MB/s): plain %s, HTTPS %s%n",
        repeat, bestPlain, bestTls, bestTls / bestPlain, rates(plain), rates(https));
    System.out.printf(
        "    goal >= 1 GB/s plain on this machine: %s (%,.0f MB/s)%n",
        bestPlain >= GOAL_PLAIN_MB_S ? "MET" : "MISSED", bestPlain);
    System.out.printf("load average at the end: %s%n", loadAverage());
    for (String v : List.of(b, a, vdi)) {
      rpc.call("VDI.destroy", session, v);
    }
    return 0;
  }

  private static String rates(List<HttpDownload.Result> rs) {
    return String.join(
        ", ", rs.stream().map(r -> String.format("%,.0f", r.mbPerSecond())).toList());
  }

  private static void check(HttpDownload.Result r, long crc, String what) {
    if (r.crc() != crc) {
      throw new IllegalStateException(
          what
              + " differs from the disk: "
              + r.bytes()
              + " bytes, CRC32C "
              + Long.toHexString(r.crc()));
    }
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  /** PUT /import_raw_vdi of a VHD file; the answer ends when the import has been applied. */
  private void put(String vdi, Path file) throws Exception {
    java.net.http.HttpResponse<String> r =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            server.base()
                                + "/import_raw_vdi?session_id="
                                + session
                                + "&vdi="
                                + vdi
                                + "&format=vhd"))
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofFile(file))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("PUT /import_raw_vdi: " + r.statusCode() + " " + r.body());
    }
  }

  private static Path logOf(Path data) {
    return data.resolveSibling(data.getFileName() + ".log");
  }

  /** XenAPI's changed-block bitmap is big-endian in each byte; BitSet.valueOf is little-endian. */
  private static byte[] reverseBits(byte[] b) {
    byte[] out = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = (byte) (Integer.reverse(b[i] & 0xff) >>> 24);
    }
    return out;
  }

  /**
   * Changes 5% of the blocks with writes of 1..16 blocks at random block offsets (overlaps
   * allowed), through NBD; returns the bytes written.
   */
  private long change(NbdClient.Target t) throws Exception {
    Random r = new Random(seed * 31 + 7);
    int goal = Math.max(1, image.blocks() / 20);
    long written = 0;
    try (NbdClient nbd = NbdClient.open(t)) {
      while (image.changed().cardinality() < goal) {
        int n = 1 + r.nextInt(16);
        int first = r.nextInt(image.blocks() - n + 1);
        image.markChanged(first, first + n);
        byte[] buf = new byte[n * BackupImage.BLOCK];
        for (int i = 0; i < n; i++) {
          image.block(first + i, 1, buf, i * BackupImage.BLOCK);
        }
        nbd.write((long) first * BackupImage.BLOCK, buf);
        written += buf.length;
      }
      nbd.flush();
    }
    return written;
  }

  /** Bytes and seconds of a timed NBD read (connection and TLS handshake included). */
  private record Read(long bytes, double seconds) {}

  private interface Expected {
    int crc(NbdClient.Range r, byte[] data);
  }

  private static Read nbdRead(NbdClient.Target t, List<NbdClient.Range> ranges, Expected expected)
      throws Exception {
    long[] bytes = {0};
    long t0 = System.nanoTime();
    try (NbdClient nbd = NbdClient.open(t)) {
      nbd.read(
          ranges,
          WINDOW,
          (r, d) -> {
            if (BackupImage.crc(d, 0, d.length) != expected.crc(r, d)) {
              throw new java.io.IOException(
                  "NBD read at " + r.offset() + " differs from what was written");
            }
            bytes[0] += d.length;
          });
    }
    return new Read(bytes[0], (System.nanoTime() - t0) / 1e9);
  }
}
