package org.xsm.plugins.vhd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.xsm.plugins.store.CrashingImageStore;
import org.xsm.plugins.store.ImageStore;

/**
 * Power-cut tests: every operation is run once per mutating store call, stopping at that call; the
 * store is then "rebooted" with unforced writes kept, dropped or torn at random, and the result
 * must open, pass {@link Vhd#check}, and read either the old or the new state, never anything else.
 */
class VhdCrashTest {
  private static final int MIB = 1024 * 1024;
  private static final int SIZE = 8 * MIB;
  private static final int SURVIVORS_PER_POINT = 3;

  private final Random rnd = new Random(42);

  private interface Op {
    void run(ImageStore s) throws IOException;
  }

  private interface Check {
    void verify(CrashingImageStore s, boolean finished) throws IOException;
  }

  /** Runs {@code op} on copies of {@code base}, crashing at each mutating call in turn. */
  private int crashEverywhere(CrashingImageStore base, Op op, Check check) throws IOException {
    for (int k = 0; k < 100_000; k++) {
      CrashingImageStore s = base.copy();
      s.crashAfter(k);
      boolean finished;
      try {
        op.run(s);
        finished = true;
      } catch (IOException e) {
        if (!s.crashed()) {
          throw e;
        }
        finished = false;
      }
      if (finished) {
        check.verify(s.copy(), true);
        return k;
      }
      for (int t = 0; t < SURVIVORS_PER_POINT; t++) {
        check.verify(s.afterCrash(rnd), false);
      }
    }
    throw new AssertionError("operation never finished");
  }

  /** A parent with data and an empty child: content model returned. */
  private static byte[] parentAndChild(CrashingImageStore s, Random r) throws IOException {
    byte[] m = new byte[SIZE];
    VhdCreator.createDynamic(s, "p.vhd", SIZE).close();
    try (VhdChain c = VhdChain.open(s, "p.vhd", true)) {
      for (int i = 0; i < 6; i++) {
        write(c, m, r);
      }
    }
    Vhd.snapshot(s, "c.vhd", "p.vhd");
    return m;
  }

  private static void write(VhdChain c, byte[] m, Random r) throws IOException {
    write(c, m, r, null);
  }

  /** A random write; {@code before} sees the model as it will be, before the write is issued. */
  private static void write(VhdChain c, byte[] m, Random r, List<byte[]> before)
      throws IOException {
    int len = r.nextBoolean() ? 1 + r.nextInt(40_000) : 4096 * (1 + r.nextInt(600));
    len = Math.min(len, SIZE);
    int off = r.nextInt(SIZE - len + 1);
    if (r.nextBoolean()) {
      off &= ~4095;
    }
    byte[] d = new byte[len];
    r.nextBytes(d);
    System.arraycopy(d, 0, m, off, len);
    if (before != null) {
      before.add(m.clone());
    }
    c.write(ByteBuffer.wrap(d), off);
  }

  private static byte[] readAll(ImageStore s, String name) throws IOException {
    try (VhdChain c = VhdChain.open(s, name, true)) {
      ByteBuffer b = ByteBuffer.allocate((int) c.virtualSizeBytes());
      c.read(b, 0);
      return b.array();
    }
  }

  private static void assertValid(ImageStore s, String name) throws IOException {
    assertThat(Vhd.check(s, name, true)).as("check of " + name).isEmpty();
  }

  @Test
  void writesAndFlushesSurviveACrashAtEveryStep() throws IOException {
    CrashingImageStore base = new CrashingImageStore();
    byte[] m0 = parentAndChild(base, new Random(1));
    List<byte[]> states = new ArrayList<>();
    int[] lastFlushed = new int[1];
    int points =
        crashEverywhere(
            base,
            s -> {
              states.clear();
              byte[] m = m0.clone();
              states.add(m.clone());
              lastFlushed[0] = 0;
              Random r = new Random(2);
              try (VhdChain c = VhdChain.open(s, "c.vhd", true)) {
                for (int i = 1; i <= 10; i++) {
                  // The state is recorded before the write: a crash may leave it partly done.
                  write(c, m, r, states);
                  if (i % 3 == 0) {
                    c.flush();
                    lastFlushed[0] = states.size() - 1;
                  }
                }
              }
              lastFlushed[0] = states.size() - 1;
            },
            (s, finished) -> {
              byte[] got = readAll(s, "c.vhd");
              assertValid(s, "c.vhd");
              assertEachSectorFromSomeState(got, states.subList(lastFlushed[0], states.size()));
              // The repaired disk keeps working: one more write, reopened, reads back.
              byte[] more = new byte[5000];
              Arrays.fill(more, (byte) 7);
              try (VhdChain c = VhdChain.open(s, "c.vhd", true)) {
                c.write(ByteBuffer.wrap(more), 123_456);
              }
              byte[] again = readAll(s, "c.vhd");
              assertThat(Arrays.copyOfRange(again, 123_456, 128_456)).isEqualTo(more);
              assertValid(s, "c.vhd");
            });
    assertThat(points).isGreaterThan(40);
  }

  private static void assertEachSectorFromSomeState(byte[] got, List<byte[]> allowed) {
    for (int s = 0; s < got.length / 512; s++) {
      boolean ok = false;
      for (byte[] st : allowed) {
        if (Arrays.equals(got, s * 512, s * 512 + 512, st, s * 512, s * 512 + 512)) {
          ok = true;
          break;
        }
      }
      assertThat(ok)
          .as("sector %d holds data no state since the last completed flush had", s)
          .isTrue();
    }
  }

  @Test
  void setHiddenIsAtomic() throws IOException {
    CrashingImageStore base = new CrashingImageStore();
    byte[] m = parentAndChild(base, new Random(3));
    int points =
        crashEverywhere(
            base,
            s -> Vhd.setHidden(s, "c.vhd", true),
            (s, finished) -> {
              boolean hidden = Vhd.query(s, "c.vhd").hidden();
              if (finished) {
                assertThat(hidden).isTrue();
              }
              assertThat(readAll(s, "c.vhd")).isEqualTo(m);
              assertValid(s, "c.vhd");
              assertThat(s.list()).doesNotContain("c.vhd.undo");
            });
    assertThat(points).isGreaterThan(4);
  }

  @Test
  void resizeOfADynamicDiskIsAtomic() throws IOException {
    CrashingImageStore base = new CrashingImageStore();
    byte[] m = parentAndChild(base, new Random(4));
    resizeScenario(base, "c.vhd", m);
  }

  @Test
  void resizeOfAFixedDiskIsAtomic() throws IOException {
    CrashingImageStore base = new CrashingImageStore();
    byte[] m = new byte[SIZE];
    VhdCreator.createFixed(base, "f.vhd", SIZE).close();
    try (VhdChain c = VhdChain.open(base, "f.vhd", true)) {
      Random r = new Random(5);
      for (int i = 0; i < 5; i++) {
        write(c, m, r);
      }
    }
    resizeScenario(base, "f.vhd", m);
  }

  private void resizeScenario(CrashingImageStore base, String name, byte[] m) throws IOException {
    int newSize = SIZE + 12 * MIB;
    int points =
        crashEverywhere(
            base,
            s -> Vhd.resize(s, name, newSize),
            (s, finished) -> {
              byte[] got = readAll(s, name);
              if (finished) {
                assertThat(got.length).isEqualTo(newSize);
              }
              assertThat(got.length).isIn(SIZE, newSize);
              assertThat(Arrays.copyOf(got, SIZE)).isEqualTo(m);
              for (int i = SIZE; i < got.length; i++) {
                assertThat(got[i]).as("byte %d of the grown space", i).isZero();
              }
              assertValid(s, name);
              // A grown disk takes writes in its new space.
              byte[] tail = new byte[4096];
              Arrays.fill(tail, (byte) 9);
              try (VhdChain c = VhdChain.open(s, name, true)) {
                c.write(ByteBuffer.wrap(tail), c.virtualSizeBytes() - 4096);
              }
              byte[] after = readAll(s, name);
              assertThat(Arrays.copyOfRange(after, after.length - 4096, after.length))
                  .isEqualTo(tail);
              assertValid(s, name);
            });
    assertThat(points).isGreaterThan(4);
  }

  @Test
  void snapshotCreationIsAllOrNothing() throws IOException {
    CrashingImageStore base = new CrashingImageStore();
    byte[] m = parentAndChild(base, new Random(6));
    crashEverywhere(
        base,
        s -> Vhd.snapshot(s, "s.vhd", "c.vhd"),
        (s, finished) -> {
          if (finished) {
            assertThat(s.exists("s.vhd")).isTrue();
          }
          if (s.exists("s.vhd")) {
            assertThat(readAll(s, "s.vhd")).isEqualTo(m);
            assertThat(Vhd.query(s, "s.vhd").chainDepth()).isEqualTo(3);
            assertValid(s, "s.vhd");
          }
          assertThat(readAll(s, "c.vhd")).isEqualTo(m);
          assertValid(s, "c.vhd");
        });
  }

  @Test
  void coalesceCanBeInterruptedAndRerun() throws IOException {
    CrashingImageStore base = new CrashingImageStore();
    byte[] m = parentAndChild(base, new Random(7));
    try (VhdChain c = VhdChain.open(base, "c.vhd", true)) {
      Random r = new Random(8);
      for (int i = 0; i < 6; i++) {
        write(c, m, r);
      }
    }
    int points =
        crashEverywhere(
            base,
            s -> Vhd.coalesce(s, "c.vhd"),
            (s, finished) -> {
              assertThat(readAll(s, "c.vhd")).isEqualTo(m);
              assertValid(s, "c.vhd");
              if (!finished) {
                Vhd.coalesce(s, "c.vhd");
              }
              assertThat(readAll(s, "p.vhd")).isEqualTo(m);
              assertValid(s, "p.vhd");
            });
    assertThat(points).isGreaterThan(10);
  }

  @Test
  void reparentIsAtomic() throws IOException {
    CrashingImageStore base = new CrashingImageStore();
    parentAndChild(base, new Random(9));
    Vhd.snapshot(base, "g.vhd", "c.vhd");
    byte[] m = readAll(base, "g.vhd");
    try (VhdChain c = VhdChain.open(base, "g.vhd", true)) {
      Random r = new Random(10);
      for (int i = 0; i < 4; i++) {
        write(c, m, r);
      }
    }
    Vhd.coalesce(base, "c.vhd");
    int points =
        crashEverywhere(
            base,
            s -> Vhd.setParent(s, "g.vhd", "p.vhd"),
            (s, finished) -> {
              int depth = Vhd.query(s, "g.vhd").chainDepth();
              assertThat(depth).isEqualTo(finished ? 2 : depth).isIn(2, 3);
              assertThat(readAll(s, "g.vhd")).isEqualTo(m);
              assertValid(s, "g.vhd");
            });
    assertThat(points).isGreaterThan(4);
  }
}
