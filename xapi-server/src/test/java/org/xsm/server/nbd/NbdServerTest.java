package org.xsm.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.VdiDevice;

/**
 * The NBD server on real VDIs of a local SR, driven by real clients: qemu-img, qemu-io (qemu-utils)
 * and nbdinfo, nbdcopy (libnbd-bin); and by a raw socket for what clients do not show.
 */
class NbdServerTest {
  private static final long MIB = 1024 * 1024;
  @TempDir Path tmp;
  private LocalDisks disks;
  private NbdServer server;

  @BeforeEach
  void start() throws Exception {
    disks = new LocalDisks(tmp.resolve("sr"));
    server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), 4);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    disks.close();
  }

  private String uri(String name) {
    return "nbd://127.0.0.1:" + server.port() + "/" + name;
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void qemuImgWritesAnImageAndCompareSeesItEqual() throws Exception {
    VdiDevice d = disks.newDisk(16 * MIB);
    server.export("disk-a", d, false);
    Path src = tmp.resolve("src.raw");
    byte[] data = new byte[(int) (16 * MIB)];
    System.arraycopy(random((int) (3 * MIB), 1), 0, data, (int) MIB, (int) (3 * MIB));
    System.arraycopy(random(4096, 2), 0, data, (int) (15 * MIB), 4096);
    Files.write(src, data);
    Proc.ok(
        List.of(
            "/usr/bin/qemu-img",
            "convert",
            "-n",
            "-f",
            "raw",
            "-O",
            "raw",
            src.toString(),
            uri("disk-a")));
    Proc.ok(
        List.of(
            "/usr/bin/qemu-img",
            "compare",
            "-f",
            "raw",
            "-F",
            "raw",
            src.toString(),
            uri("disk-a")));
    ByteBuffer back = ByteBuffer.allocate(data.length);
    d.read(back, 0);
    assertThat(back.array()).isEqualTo(data);
    data[(int) (15 * MIB)] ^= 1;
    Files.write(src, data);
    Proc differ =
        Proc.run(
            List.of(
                "/usr/bin/qemu-img",
                "compare",
                "-f",
                "raw",
                "-F",
                "raw",
                src.toString(),
                uri("disk-a")));
    assertThat(differ.exit()).as(differ.output()).isEqualTo(1);
    assertThat(differ.output()).contains("Content mismatch at offset " + 15 * MIB);
  }

  @Test
  void qemuIoPatternsZeroesAndFlush() throws Exception {
    VdiDevice d = disks.newDisk(8 * MIB);
    server.export("disk-b", d, false);
    String out =
        Proc.ok(
            List.of(
                "/usr/bin/qemu-io",
                "-f",
                "raw",
                "-c",
                "write -P 0xab 1M 64k",
                "-c",
                "write -P 0x5c 3000 5000",
                "-c",
                "aio_write -P 0x11 6M 512k",
                "-c",
                "aio_flush",
                "-c",
                "write -z 1M 4k",
                "-c",
                "flush",
                "-c",
                "read -P 0 1M 4k",
                "-c",
                "read -P 0xab 1052672 61440",
                "-c",
                "read -P 0x5c 3000 5000",
                "-c",
                "read -P 0x11 6M 512k",
                uri("disk-b")));
    assertThat(out).doesNotContain("failed").doesNotContain("error");
    ByteBuffer b = ByteBuffer.allocate(5000);
    d.read(b, 3000);
    for (byte x : b.array()) {
      assertThat(x).isEqualTo((byte) 0x5c);
    }
    ByteBuffer z = ByteBuffer.allocate(4096);
    d.read(z, MIB);
    assertThat(z.array()).containsOnly(0);
  }

  @Test
  void nbdinfoMapShowsHolesAndNbdcopyCopiesTheData() throws Exception {
    VdiDevice d = disks.newDisk(16 * MIB);
    byte[] block = random((int) (2 * MIB), 3);
    d.write(ByteBuffer.wrap(block), 6 * MIB);
    d.flush();
    server.export("disk-c", d, false);
    String map = Proc.ok(List.of("/usr/bin/nbdinfo", "--map", uri("disk-c")));
    // Offsets, lengths and types as nbdinfo prints base:allocation: data only at 6-8 MiB.
    assertThat(map.lines().map(String::trim).map(l -> l.replaceAll("\\s+", " ")).toList())
        .containsExactly(
            "0 6291456 3 hole,zero", "6291456 2097152 0 data", "8388608 8388608 3 hole,zero");
    String json = Proc.ok(List.of("/usr/bin/nbdinfo", "--json", uri("disk-c")));
    assertThat(json).contains("\"export-size\": " + 16 * MIB).contains("\"is_read_only\": false");
    Path copy = tmp.resolve("copy.raw");
    Proc.ok(List.of("/usr/bin/nbdcopy", uri("disk-c"), copy.toString()));
    byte[] got = Files.readAllBytes(copy);
    assertThat(got).hasSize((int) (16 * MIB));
    byte[] want = new byte[(int) (16 * MIB)];
    System.arraycopy(block, 0, want, (int) (6 * MIB), block.length);
    assertThat(got).isEqualTo(want);
  }

  @Test
  void readOnlyExportsRefuseWritesAndUnknownNamesAreRefused() throws Exception {
    VdiDevice d = disks.newDisk(4 * MIB);
    server.export("disk-ro", d, true);
    String json = Proc.ok(List.of("/usr/bin/nbdinfo", "--json", uri("disk-ro")));
    assertThat(json).contains("\"is_read_only\": true");
    Proc w = Proc.run(List.of("/usr/bin/qemu-io", "-f", "raw", "-c", "write 0 4k", uri("disk-ro")));
    assertThat(w.output()).contains("Permission denied").doesNotContain("wrote 4096");
    // A client ignoring the read-only flag gets EPERM from the server itself.
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      NbdWire.handshake(in, out, "disk-ro");
      NbdWire.request(out, Nbd.CMD_WRITE, 0, 4096);
      out.write(new byte[4096]);
      out.flush();
      assertThat(in.readInt()).isEqualTo(Nbd.SIMPLE_REPLY_MAGIC);
      assertThat(in.readInt()).isEqualTo(Nbd.EPERM);
    }
    ByteBuffer b = ByteBuffer.allocate(4096);
    d.read(b, 0);
    assertThat(b.array()).containsOnly(0);
    Proc unknown = Proc.run(List.of("/usr/bin/qemu-img", "info", uri("no-such-export")));
    assertThat(unknown.exit()).isNotZero();
    assertThat(unknown.output()).contains("no such export");
    // Names are tokens: listing exports reveals none.
    String list =
        Proc.ok(
            List.of("/usr/bin/nbdinfo", "--list", "--json", "nbd://127.0.0.1:" + server.port()));
    assertThat(list).doesNotContain("disk-ro");
  }

  @Test
  void offsetsNear2To63AreRefusedNotWrappedPastTheCheck() throws Exception {
    // Found by ./bench/run fuzz: offset + length overflowed and the bounds check let it through.
    VdiDevice d = disks.newDisk(4 * MIB);
    server.export("disk-o", d, false);
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      NbdWire.handshake(in, out, "disk-o");
      NbdWire.request(out, Nbd.CMD_WRITE, Long.MAX_VALUE - 100, 4096);
      out.write(new byte[4096]);
      out.flush();
      assertThat(in.readInt()).isEqualTo(Nbd.SIMPLE_REPLY_MAGIC);
      assertThat(in.readInt()).isEqualTo(Nbd.ENOSPC);
      in.readLong();
      NbdWire.request(out, Nbd.CMD_READ, Long.MAX_VALUE - 100, 4096);
      assertThat(in.readInt()).isEqualTo(Nbd.SIMPLE_REPLY_MAGIC);
      assertThat(in.readInt()).isEqualTo(Nbd.EINVAL);
      in.readLong();
      // The connection goes on serving.
      NbdWire.request(out, Nbd.CMD_READ, 0, 512);
      assertThat(in.readInt()).isEqualTo(Nbd.SIMPLE_REPLY_MAGIC);
      assertThat(in.readInt()).isZero();
    }
  }

  @Test
  void unexportClosesOpenConnectionsAndBadOptionsGetErrors() throws Exception {
    VdiDevice d = disks.newDisk(4 * MIB);
    server.export("disk-d", d, false);
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      assertThat(in.readLong()).isEqualTo(Nbd.NBDMAGIC);
      assertThat(in.readLong()).isEqualTo(Nbd.IHAVEOPT);
      assertThat(in.readShort()).isEqualTo((short) 3);
      out.writeInt(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES);
      NbdWire.option(out, 99, new byte[0]);
      assertThat(in.readLong()).isEqualTo(Nbd.OPTION_REPLY_MAGIC);
      assertThat(in.readInt()).isEqualTo(99);
      assertThat(in.readInt()).isEqualTo(Nbd.REP_ERR_UNSUP);
      in.readFully(new byte[in.readInt()]);
      NbdWire.option(out, Nbd.OPT_EXPORT_NAME, "disk-d".getBytes(StandardCharsets.UTF_8));
      assertThat(in.readLong()).isEqualTo(4 * MIB);
      in.readShort();
      assertThat(server.find("disk-d").orElseThrow().connectionCount()).isEqualTo(1);
      // A read works before the export goes away...
      NbdWire.request(out, Nbd.CMD_READ, 0, 512);
      assertThat(in.readInt()).isEqualTo(Nbd.SIMPLE_REPLY_MAGIC);
      assertThat(in.readInt()).isZero();
      in.readLong();
      in.readFully(new byte[512]);
      server.unexport("disk-d");
      // ...and the connection is closed by it, with nothing more sent.
      s.setSoTimeout(10_000);
      try {
        int next = in.read();
        assertThat(next).isEqualTo(-1);
      } catch (java.net.SocketException | EOFException e) {
        // reset by the server: closed too
      }
    }
    assertThat(server.find("disk-d")).isEmpty();
  }
}
