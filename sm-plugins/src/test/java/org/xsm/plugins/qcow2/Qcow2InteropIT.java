package org.xsm.plugins.qcow2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xsm.plugins.vhd.InteropSupport.MiB;
import static org.xsm.plugins.vhd.InteropSupport.assertSameBytes;
import static org.xsm.plugins.vhd.InteropSupport.runOk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.InteropSupport;
import org.xsm.plugins.vhd.InteropSupport.Write;

/**
 * qcow2 images the engine makes, checked by qemu (qemu-img check, info --backing-chain, compare
 * against a raw file of the model, map; qemu-io reads), and images qemu makes or writes, read by
 * the engine. The oracles are qemu and a byte-array model of what was written.
 */
@Timeout(180)
class Qcow2InteropIT {
  private static final int SIZE = (int) (24 * MiB);

  @TempDir Path dir;
  private LocalImageStore store;
  private final Random rnd = new Random(7);

  @BeforeAll
  static void tools() {
    InteropSupport.requireTool("qemu-img", "qemu-utils");
    InteropSupport.requireTool("qemu-io", "qemu-utils");
  }

  @BeforeEach
  void openStore() throws IOException {
    store = LocalImageStore.open(dir);
  }

  private void assertQemuCheckClean(String name) throws Exception {
    QemuOracle.assertCheckClean(dir, name);
  }

  private void assertQemuCompare(String name, byte[] model) throws Exception {
    QemuOracle.assertSameAs(dir, name, model);
  }

  private void apply(String name, byte[] model, List<Write> writes) throws IOException {
    try (Qcow2Chain c = Qcow2Chain.open(store, name, true)) {
      int i = 0;
      for (Write w : writes) {
        c.write(ByteBuffer.wrap(w.data()), w.offset());
        System.arraycopy(w.data(), 0, model, (int) w.offset(), w.data().length);
        if (++i % 13 == 0) {
          c.flush();
        }
      }
    }
  }

  private byte[] readAll(String name) throws IOException {
    try (Qcow2Chain c = Qcow2Chain.open(store, name, false)) {
      ByteBuffer b = ByteBuffer.allocate((int) c.virtualSizeBytes());
      c.read(b, 0);
      return b.array();
    }
  }

  private static long jsonLong(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*(\\d+)").matcher(json);
    assertThat(m.find()).as("%s in %s", key, json).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void createdImageIsWhatQemuCreates() throws Exception {
    Qcow2.create(store, "d.qcow2", SIZE);
    assertQemuCheckClean("d.qcow2");
    String info = runOk(dir, "qemu-img", "info", "--output=json", "d.qcow2").out();
    assertThat(jsonLong(info, "virtual-size")).isEqualTo(SIZE);
    assertThat(jsonLong(info, "cluster-size")).isEqualTo(65536);
    assertThat(info).contains("\"format\": \"qcow2\"").contains("\"compat\": \"1.1\"");
    assertQemuCompare("d.qcow2", new byte[SIZE]);
  }

  @Test
  void randomWritesMatchTheModelForQemu() throws Exception {
    Qcow2.create(store, "d.qcow2", SIZE);
    byte[] model = new byte[SIZE];
    apply("d.qcow2", model, InteropSupport.randomWrites(rnd, SIZE, 300, 1, 3 << 20));
    assertQemuCheckClean("d.qcow2");
    assertQemuCompare("d.qcow2", model);
    assertSameBytes("engine read", readAll("d.qcow2"), model);
  }

  @Test
  void chainOfThreeIsSeenByQemuWithRelativeBackingNames() throws Exception {
    Qcow2.create(store, "a.qcow2", SIZE);
    byte[] model = new byte[SIZE];
    apply("a.qcow2", model, InteropSupport.randomWrites(rnd, SIZE, 60, 512, 1 << 20));
    Qcow2.snapshot(store, "b.qcow2", "a.qcow2");
    apply("b.qcow2", model, InteropSupport.randomWrites(rnd, SIZE, 60, 1, 1 << 20));
    Qcow2.snapshot(store, "c.qcow2", "b.qcow2");
    apply("c.qcow2", model, InteropSupport.randomWrites(rnd, SIZE, 60, 4096, 1 << 20));
    String chain =
        runOk(dir, "qemu-img", "info", "--backing-chain", "--output=json", "c.qcow2").out();
    assertThat(chain)
        .contains("\"backing-filename\": \"b.qcow2\"")
        .contains("\"backing-filename\": \"a.qcow2\"");
    assertThat(Pattern.compile("\"filename\"").matcher(chain).results().count()).isEqualTo(3);
    for (String n : List.of("a.qcow2", "b.qcow2", "c.qcow2")) {
      assertQemuCheckClean(n);
    }
    assertQemuCompare("c.qcow2", model);
    assertThat(Qcow2.info(store, "c.qcow2").chainDepth()).isEqualTo(3);
  }

  @Test
  void qemuIoWritesAreReadByTheEngineAndTheReverse() throws Exception {
    runOk(dir, "qemu-img", "create", "-q", "-f", "qcow2", "q.qcow2", String.valueOf(SIZE));
    runOk(
        dir,
        "qemu-io",
        "-f",
        "qcow2",
        "-c",
        "write -P 0xab 1000448 300k",
        "-c",
        "write -P 0x11 0 4k",
        "-c",
        "write -z 2M 1M",
        "q.qcow2");
    byte[] model = new byte[SIZE];
    java.util.Arrays.fill(model, 1000448, 1000448 + 300 * 1024, (byte) 0xab);
    java.util.Arrays.fill(model, 0, 4096, (byte) 0x11);
    assertSameBytes("engine read of qemu's image", readAll("q.qcow2"), model);
    // A child made by qemu over it, written by the engine, read by qemu-io.
    runOk(
        dir, "qemu-img", "create", "-q", "-f", "qcow2", "-b", "q.qcow2", "-F", "qcow2", "k.qcow2");
    try (Qcow2Chain c = Qcow2Chain.open(store, "k.qcow2", true)) {
      byte[] d = new byte[70_000];
      java.util.Arrays.fill(d, (byte) 0x5c);
      c.write(ByteBuffer.wrap(d), 1_000_000);
      System.arraycopy(d, 0, model, 1_000_000, d.length);
    }
    runOk(
        dir,
        "qemu-io",
        "-f",
        "qcow2",
        "-c",
        "read -P 0x5c 1000000 70000",
        "-c",
        "read -P 0xab 1070000 230000",
        "-c",
        "read -P 0x11 0 4k",
        "k.qcow2");
    assertQemuCheckClean("k.qcow2");
    assertQemuCompare("k.qcow2", model);
    // qemu writes into the engine's child; the engine reads the result.
    Qcow2.snapshot(store, "e.qcow2", "k.qcow2");
    runOk(dir, "qemu-io", "-f", "qcow2", "-c", "write -P 0x77 5M 200k", "e.qcow2");
    java.util.Arrays.fill(model, 5 << 20, (5 << 20) + 200 * 1024, (byte) 0x77);
    assertSameBytes("engine read of qemu's write", readAll("e.qcow2"), model);
    assertQemuCheckClean("e.qcow2");
  }

  /**
   * 512-byte clusters with 16-bit counts: one table cluster covers 8 MiB of file. Writing 20 MiB
   * into an image qemu made (a table of one cluster) grows the table twice; the engine sizes the
   * table of an image it makes for the disk. qemu finds both clean and equal to the model, and the
   * engine reads what qemu-io wrote after it.
   */
  @Test
  void refcountTableGrowsPastWhatOneClusterCovers() throws Exception {
    runOk(
        dir,
        "qemu-img",
        "create",
        "-q",
        "-f",
        "qcow2",
        "-o",
        "cluster_size=512",
        "q.qcow2",
        String.valueOf(SIZE));
    Qcow2.create(store, "e.qcow2", SIZE, java.util.Optional.empty(), XsmExtension.NIL, 9);
    for (String name : List.of("q.qcow2", "e.qcow2")) {
      byte[] model = new byte[SIZE];
      byte[] chunk = new byte[(int) MiB];
      try (Qcow2Chain c = Qcow2Chain.open(store, name, true)) {
        for (int i = 0; i < 20; i++) {
          rnd.nextBytes(chunk);
          long at = (long) ((i * 7) % 22) * MiB + 512 * i;
          c.write(ByteBuffer.wrap(chunk), at);
          System.arraycopy(chunk, 0, model, (int) at, chunk.length);
          if (i % 6 == 5) {
            c.flush();
          }
        }
      }
      try (Qcow2Image img = Qcow2Image.open(store, name, false)) {
        assertThat(img.header().refcountTableClusters()).as(name).isGreaterThan(1);
      }
      assertThat(Files.size(dir.resolve(name))).isGreaterThan(16 * MiB);
      assertQemuCheckClean(name);
      assertQemuCompare(name, model);
      runOk(dir, "qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 23M 512k", name);
      java.util.Arrays.fill(model, (int) (23 * MiB), (int) (23 * MiB + 512 * 1024), (byte) 0x5a);
      assertSameBytes(name + " after qemu-io", readAll(name), model);
      assertQemuCheckClean(name);
    }
  }

  @Test
  void compressedClustersFromQemuAreRead() throws Exception {
    byte[] model = new byte[SIZE];
    for (int i = 0; i < SIZE; i += 4096) {
      java.util.Arrays.fill(model, i, i + 1024, (byte) (i >> 12));
    }
    Files.write(dir.resolve("src.raw"), model);
    runOk(dir, "qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", "src.raw", "z.qcow2");
    assertSameBytes("engine read of compressed clusters", readAll("z.qcow2"), model);
    try (Qcow2Chain c = Qcow2Chain.open(store, "z.qcow2", true)) {
      c.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 70_000);
    }
    model[70_000] = 1;
    model[70_001] = 2;
    model[70_002] = 3;
    assertQemuCheckClean("z.qcow2");
    assertQemuCompare("z.qcow2", model);
  }

  @Test
  void zeroingDiscardingResizingAndCoalescingStayCleanForQemu() throws Exception {
    Qcow2.create(store, "p.qcow2", SIZE);
    byte[] model = new byte[SIZE];
    apply("p.qcow2", model, InteropSupport.randomWrites(rnd, SIZE, 80, 1, 2 << 20));
    Qcow2.snapshot(store, "c.qcow2", "p.qcow2");
    apply("c.qcow2", model, InteropSupport.randomWrites(rnd, SIZE, 80, 1, 2 << 20));
    try (Qcow2Chain c = Qcow2Chain.open(store, "c.qcow2", true)) {
      c.zero(3 * MiB + 100, 5 * MiB);
      c.zero(0, 65536);
    }
    java.util.Arrays.fill(model, (int) (3 * MiB + 100), (int) (8 * MiB + 100), (byte) 0);
    java.util.Arrays.fill(model, 0, 65536, (byte) 0);
    assertQemuCheckClean("c.qcow2");
    assertQemuCompare("c.qcow2", model);
    Qcow2.coalesce(store, "c.qcow2");
    assertQemuCheckClean("p.qcow2");
    assertQemuCompare("p.qcow2", model);
    Qcow2.resize(store, "p.qcow2", 600L << 30); // past one L1 cluster (512 GiB at 64 KiB clusters)
    String info = runOk(dir, "qemu-img", "info", "--output=json", "p.qcow2").out();
    assertThat(jsonLong(info, "virtual-size")).isEqualTo(600L << 30);
    assertQemuCheckClean("p.qcow2");
    assertQemuCompare("p.qcow2", model); // the grown part is unallocated: equal to nothing
  }

  @Test
  void threeTebibyteDiskIsSnapshottedWrittenPastTwoTebibytesAndCoalesced() throws Exception {
    long tib = 1L << 40;
    long size = 3 * tib;
    Qcow2.create(store, "big.qcow2", size);
    byte[] a = new byte[200_000];
    java.util.Arrays.fill(a, (byte) 0x3a);
    try (Qcow2Chain c = Qcow2Chain.open(store, "big.qcow2", true)) {
      c.write(ByteBuffer.wrap(a), 2 * tib + 12345);
    }
    Qcow2.snapshot(store, "snap.qcow2", "big.qcow2");
    byte[] b = new byte[300_000];
    java.util.Arrays.fill(b, (byte) 0x4b);
    try (Qcow2Chain c = Qcow2Chain.open(store, "snap.qcow2", true)) {
      c.write(ByteBuffer.wrap(b), 2 * tib + 100_000);
      c.write(ByteBuffer.wrap(b), size - b.length);
    }
    assertQemuCheckClean("snap.qcow2");
    String chain =
        runOk(dir, "qemu-img", "info", "--backing-chain", "--output=json", "snap.qcow2").out();
    assertThat(jsonLong(chain, "virtual-size")).isEqualTo(size);
    String twoT = String.valueOf(2 * tib);
    runOk(
        dir,
        "qemu-io",
        "-r",
        "-f",
        "qcow2",
        "-c",
        "read -P 0x3a " + (2 * tib + 12345) + " " + (100_000 - 12345),
        "-c",
        "read -P 0x4b " + (2 * tib + 100_000) + " 300000",
        "-c",
        "read -P 0 " + twoT + " 12345",
        "-c",
        "read -P 0x4b " + (size - b.length) + " " + b.length,
        "snap.qcow2");
    Qcow2.coalesce(store, "snap.qcow2");
    assertQemuCheckClean("big.qcow2");
    runOk(
        dir,
        "qemu-io",
        "-r",
        "-f",
        "qcow2",
        "-c",
        "read -P 0x3a " + (2 * tib + 12345) + " " + (100_000 - 12345),
        "-c",
        "read -P 0x4b " + (2 * tib + 100_000) + " 300000",
        "-c",
        "read -P 0x4b " + (size - b.length) + " " + b.length,
        "-c",
        "read -P 0 0 1M",
        "big.qcow2");
    // The engine reads the same, and the file stays small (sparse metadata).
    try (Qcow2Chain c = Qcow2Chain.open(store, "big.qcow2", false)) {
      ByteBuffer got = ByteBuffer.allocate(b.length);
      c.read(got, size - b.length);
      assertThat(got.array()).isEqualTo(b);
    }
    assertThat(Files.size(dir.resolve("big.qcow2"))).isLessThan(8 * MiB);
  }
}
