package org.xsm.plugins.qcow2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xsm.plugins.vhd.InteropSupport.run;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xsm.plugins.store.CrashingImageStore;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.vhd.InteropSupport;

/**
 * Power cuts at every ordered write point of the qcow2 engine's metadata updates. Each operation is
 * run once per mutating store call, stopping at that call ({@link CrashingImageStore}); the store
 * is then "rebooted" with unforced writes kept, dropped or torn at random, and then:
 *
 * <ul>
 *   <li>{@code qemu-img check} of the files as found reports no corruption (leaked clusters, which
 *       the ordering allows, are harmless);
 *   <li>after the engine's next writable open (which releases the leaks of a dirty image), {@code
 *       qemu-img check} is clean: no errors, no leaks;
 *   <li>the disk reads as the content of the last completed flush with, byte by byte, either the
 *       old or the new bytes of every write issued after it.
 * </ul>
 */
@Timeout(600)
class Qcow2CrashIT {
  private static final int MIB = 1 << 20;
  private static final int SIZE = 6 * MIB;
  private static final int SURVIVORS = 3;

  @TempDir Path dir;
  private final Random rnd = new Random(11);
  private int qemuChecks;

  @BeforeAll
  static void tools() {
    InteropSupport.requireTool("qemu-img", "qemu-utils");
  }

  private interface Op {
    void run(ImageStore s, List<byte[]> states) throws IOException;
  }

  /** Expected content: states.get(0) was durable before; any later state may show byte by byte. */
  private interface Content {
    void verify(CrashingImageStore s, List<byte[]> states, boolean finished) throws Exception;
  }

  private int crashEverywhere(CrashingImageStore base, Op op, Content content) throws Exception {
    for (int k = 0; k < 10_000; k++) {
      CrashingImageStore s = base.copy();
      s.crashAfter(k);
      List<byte[]> states = new ArrayList<>();
      boolean finished;
      try {
        op.run(s, states);
        finished = true;
      } catch (IOException e) {
        if (!s.crashed()) {
          throw e;
        }
        finished = false;
      }
      if (finished) {
        verifyAfter(s.copy(), states, true, content);
        return k;
      }
      for (int t = 0; t < SURVIVORS; t++) {
        verifyAfter(s.afterCrash(rnd), states, false, content);
      }
    }
    throw new AssertionError("operation never finished");
  }

  private void verifyAfter(
      CrashingImageStore s, List<byte[]> states, boolean finished, Content content)
      throws Exception {
    dump(s);
    for (String n : s.list()) {
      if (n.endsWith(".qcow2")) {
        qemuCheck(n, false);
      }
    }
    for (String n : s.list()) {
      if (n.endsWith(".qcow2")) {
        Qcow2Image.open(s, n, true).close(); // the engine's next open repairs a dirty image
      }
    }
    dump(s);
    for (String n : s.list()) {
      if (n.endsWith(".qcow2")) {
        qemuCheck(n, true);
      }
    }
    content.verify(s, states, finished);
  }

  private void dump(CrashingImageStore s) throws IOException {
    try (var old = Files.list(dir)) {
      for (Path p : old.toList()) {
        Files.delete(p);
      }
    }
    for (String n : s.list()) {
      Files.write(dir.resolve(n), s.bytes(n));
    }
  }

  private void qemuCheck(String name, boolean clean) throws Exception {
    qemuChecks++;
    InteropSupport.Result r = run(dir, "qemu-img", "check", "-f", "qcow2", name);
    if (clean) {
      assertThat(r.exit()).as("qemu-img check after the engine's open: %s", r.describe()).isZero();
    } else {
      assertThat(r.exit()).as("qemu-img check as found: %s", r.describe()).isIn(0, 3);
      assertThat(r.out()).as(r.describe()).doesNotContain("ERROR").doesNotContain("corruptions");
    }
  }

  private static byte[] readAll(ImageStore s, String name) throws IOException {
    try (Qcow2Chain c = Qcow2Chain.open(s, name, false)) {
      ByteBuffer b = ByteBuffer.allocate((int) c.virtualSizeBytes());
      c.read(b, 0);
      return b.array();
    }
  }

  /** Every byte is that of states.get(0), or of a later state. */
  private static void assertOneOf(byte[] actual, List<byte[]> states, int from, String what) {
    for (int i = 0; i < actual.length; i++) {
      boolean ok = false;
      for (int k = from; k < states.size() && !ok; k++) {
        ok = states.get(k)[i] == actual[i];
      }
      if (!ok) {
        throw new AssertionError(
            what
                + ": byte "
                + i
                + " is "
                + actual[i]
                + ", in none of the states from "
                + from
                + " of "
                + states.size());
      }
    }
  }

  private static void write(Qcow2Chain c, byte[] m, Random r) throws IOException {
    write(c, m, r, null);
  }

  /** A random write; {@code states} gets the model as it will be, before the write is issued. */
  private static void write(Qcow2Chain c, byte[] m, Random r, List<byte[]> states)
      throws IOException {
    int len = r.nextBoolean() ? 1 + r.nextInt(100_000) : 65536 * (1 + r.nextInt(12));
    int off = r.nextInt(SIZE - len + 1);
    if (r.nextBoolean()) {
      off &= ~65535;
    }
    writeAt(c, m, r, states, off, len);
  }

  /** A parent with data and an empty child over it; the model is returned. */
  private static byte[] parentAndChild(CrashingImageStore s) throws IOException {
    return parentAndChild(s, Qcow2.DEFAULT_CLUSTER_BITS);
  }

  private static byte[] parentAndChild(CrashingImageStore s, int bits) throws IOException {
    byte[] m = new byte[SIZE];
    Qcow2.create(s, "p.qcow2", SIZE, java.util.Optional.empty(), XsmExtension.NIL, bits);
    Random r = new Random(3);
    try (Qcow2Chain c = Qcow2Chain.open(s, "p.qcow2", true)) {
      for (int i = 0; i < 6; i++) {
        write(c, m, r);
      }
    }
    Qcow2.snapshot(s, "c.qcow2", "p.qcow2", bits);
    return m;
  }

  /**
   * 64 KiB clusters (what the engine creates) and 512-byte ones, whose small L2 tables and refcount
   * blocks make nearly every flush add L1 entries and refcount blocks.
   */
  @ParameterizedTest
  @ValueSource(ints = {16, 9})
  void writesZeroingAndFlushesSurviveACrashAtEveryWritePoint(int clusterBits) throws Exception {
    CrashingImageStore base = new CrashingImageStore();
    byte[] m0 = parentAndChild(base, clusterBits);
    int[] flushed = new int[1];
    int points =
        crashEverywhere(
            base,
            (s, states) -> {
              byte[] m = firstState(m0, states, flushed);
              Random r = new Random(5);
              try (Qcow2Chain c = Qcow2Chain.open(s, "c.qcow2", true)) {
                for (int i = 0; i < 9; i++) {
                  if (i == 4) {
                    Arrays.fill(m, MIB + 1000, 3 * MIB + 1000, (byte) 0);
                    states.add(m.clone());
                    c.zero(MIB + 1000, 2 * MIB);
                  } else {
                    write(c, m, r, states);
                  }
                  if (i % 3 == 2) {
                    c.flush();
                    flushed[0] = states.size() - 1;
                  }
                }
              }
              flushed[0] = states.size() - 1;
            },
            lastOrSinceFlush(flushed));
    assertThat(points).isGreaterThan(20);
  }

  /** The model to change, from {@code m0}, which is state 0, the last flushed one so far. */
  private static byte[] firstState(byte[] m0, List<byte[]> states, int[] flushed) {
    states.add(m0.clone());
    flushed[0] = 0;
    return m0.clone();
  }

  /**
   * The child reads as the last state if the operation finished, else byte by byte as a state from
   * the last completed flush ({@code flushed[0]}) on.
   */
  private static Content lastOrSinceFlush(int[] flushed) {
    return (s, states, finished) -> {
      byte[] got = readAll(s, "c.qcow2");
      if (finished) {
        assertThat(got).isEqualTo(states.get(states.size() - 1));
      } else {
        assertOneOf(got, states, flushed[0], "child after crash");
      }
    };
  }

  /**
   * Clusters freed by zeroing are reused once the flush made their count of 0 durable, not before
   * (a write right after the zeroing, elsewhere, must not take them: the old L2 entries pointing to
   * them may still be what survives a crash): in the session that freed them and in the next one,
   * which finds them by reading the counts. Finished, the file grew by the first write only.
   */
  @ParameterizedTest
  @ValueSource(ints = {16, 9})
  void reuseOfFreedClustersSurvivesACrashAtEveryWritePoint(int clusterBits) throws Exception {
    CrashingImageStore base = new CrashingImageStore();
    byte[] m0 = parentAndChild(base, clusterBits);
    try (Qcow2Chain c = Qcow2Chain.open(base, "c.qcow2", true)) {
      writeAt(c, m0, rnd, null, MIB, 2 * MIB);
    }
    long sizeBefore = base.sizeOf("c.qcow2");
    int[] flushed = new int[1];
    Content content = lastOrSinceFlush(flushed);
    crashEverywhere(
        base,
        (s, states) -> {
          byte[] m = firstState(m0, states, flushed);
          Random r = new Random(23);
          try (Qcow2Chain c = Qcow2Chain.open(s, "c.qcow2", true)) {
            Arrays.fill(m, MIB, 2 * MIB, (byte) 0);
            states.add(m.clone());
            c.zero(MIB, MIB);
            writeAt(c, m, r, states, 3 * MIB + 1000, 300_000);
            c.flush();
            flushed[0] = states.size() - 1;
            writeAt(c, m, r, states, 3 * MIB + 400_000, 300_000);
          }
          flushed[0] = states.size() - 1;
          try (Qcow2Chain c = Qcow2Chain.open(s, "c.qcow2", true)) {
            writeAt(c, m, r, states, 3 * MIB + 700_000, 300_000);
          }
          flushed[0] = states.size() - 1;
        },
        (s, states, finished) -> {
          content.verify(s, states, finished);
          if (finished) {
            assertThat(s.sizeOf("c.qcow2")).as("file size").isLessThan(sizeBefore + 400_000);
          }
        });
  }

  /**
   * Writes {@code len} random bytes at {@code off}; {@code states}, if given, gets the model as it
   * will be first.
   */
  private static void writeAt(
      Qcow2Chain c, byte[] m, Random r, List<byte[]> states, int off, int len) throws IOException {
    byte[] d = new byte[len];
    r.nextBytes(d);
    System.arraycopy(d, 0, m, off, len);
    if (states != null) {
      states.add(m.clone());
    }
    c.write(ByteBuffer.wrap(d), off);
  }

  @Test
  void resizeAcrossL1ClustersSurvivesACrashAtEveryWritePoint() throws Exception {
    CrashingImageStore base = new CrashingImageStore();
    byte[] m0 = parentAndChild(base);
    long newSize = 700L << 30;
    crashEverywhere(
        base,
        (s, states) -> {
          states.add(m0);
          try (Qcow2Image img = Qcow2Image.open(s, "c.qcow2", true)) {
            img.resize(newSize);
          }
        },
        (s, states, finished) -> {
          long size;
          try (Qcow2Image img = Qcow2Image.open(s, "c.qcow2", false)) {
            size = img.virtualSizeBytes();
          }
          assertThat(size).isIn(finished ? List.of(newSize) : List.of((long) SIZE, newSize));
          try (Qcow2Chain c = Qcow2Chain.open(s, "c.qcow2", false)) {
            ByteBuffer b = ByteBuffer.allocate(SIZE);
            c.read(b, 0);
            assertThat(b.array()).isEqualTo(m0);
          }
        });
  }

  /**
   * 512-byte clusters: one refcount table cluster covers 8 MiB of file. An image qemu made (with a
   * table of one cluster; the engine sizes its own tables for the disk) filled to just below that
   * is written past it, so that the table grows (new blocks and table, then the header's table
   * fields, then the old table freed by the flush).
   */
  @Test
  void refcountTableGrowthSurvivesACrashAtEveryWritePoint() throws Exception {
    CrashingImageStore base = new CrashingImageStore();
    int size = 10 * MIB;
    run(dir, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", "q", "10M");
    try (var f = base.create("g.qcow2")) {
      f.writeFully(ByteBuffer.wrap(Files.readAllBytes(dir.resolve("q"))), 0);
      f.force();
    }
    byte[] m0 = new byte[size];
    Random r = new Random(13);
    try (Qcow2Chain c = Qcow2Chain.open(base, "g.qcow2", true)) {
      byte[] d = new byte[64 * 1024];
      for (int off = 0; off + d.length <= 7 * MIB + 512 * 1024; off += d.length) {
        r.nextBytes(d);
        System.arraycopy(d, 0, m0, off, d.length);
        c.write(ByteBuffer.wrap(d), off);
      }
    }
    int before;
    try (Qcow2Image img = Qcow2Image.open(base, "g.qcow2", false)) {
      before = img.header().refcountTableClusters();
    }
    assertThat(before).isEqualTo(1);
    int[] flushed = new int[1];
    crashEverywhere(
        base,
        (s, states) -> {
          byte[] m = firstState(m0, states, flushed);
          Random w = new Random(17);
          try (Qcow2Chain c = Qcow2Chain.open(s, "g.qcow2", true)) {
            byte[] d = new byte[256 * 1024];
            for (int off = 7 * MIB + 512 * 1024; off < 9 * MIB; off += d.length) {
              w.nextBytes(d);
              System.arraycopy(d, 0, m, off, d.length);
              states.add(m.clone());
              c.write(ByteBuffer.wrap(d), off);
            }
            c.flush();
            flushed[0] = states.size() - 1;
          }
        },
        (s, states, finished) -> {
          byte[] got = readAll(s, "g.qcow2");
          if (finished) {
            assertThat(got).isEqualTo(states.get(states.size() - 1));
            try (Qcow2Image img = Qcow2Image.open(s, "g.qcow2", false)) {
              assertThat(img.header().refcountTableClusters()).isGreaterThan(1);
            }
          } else {
            assertOneOf(got, states, flushed[0], "image after crash in table growth");
          }
        });
  }

  @Test
  void coalesceAndHiddenFlagSurviveACrashAtEveryWritePoint() throws Exception {
    CrashingImageStore base = new CrashingImageStore();
    byte[] parent = parentAndChild(base);
    byte[] merged = parent.clone();
    try (Qcow2Chain c = Qcow2Chain.open(base, "c.qcow2", true)) {
      Random r = new Random(9);
      for (int i = 0; i < 5; i++) {
        write(c, merged, r);
      }
      c.zero(4 * MIB, MIB);
      Arrays.fill(merged, 4 * MIB, 5 * MIB, (byte) 0);
    }
    crashEverywhere(
        base.copy(),
        (s, states) -> {
          states.add(parent);
          states.add(merged);
          Qcow2.setHidden(s, "p.qcow2", true);
          Qcow2.coalesce(s, "c.qcow2");
        },
        (s, states, finished) -> {
          byte[] got = readAll(s, "p.qcow2");
          if (finished) {
            assertThat(got).isEqualTo(merged);
            assertThat(Qcow2.info(s, "p.qcow2").hidden()).isTrue();
          } else {
            assertOneOf(got, states, 0, "parent after crash in coalesce");
          }
          assertThat(readAll(s, "c.qcow2")).isEqualTo(merged);
        });
    assertThat(qemuChecks).isGreaterThan(40);
  }
}
