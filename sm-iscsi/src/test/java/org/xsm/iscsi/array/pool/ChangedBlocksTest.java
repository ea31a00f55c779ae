package org.xsm.iscsi.array.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.iscsi.array.ArrayException;

/**
 * The array's changed-block answers against the truth: every LUN has a shadow copy of its bytes in
 * the test, and the expected answer is the set of 64 KiB granules whose shadow bytes differ. The
 * pool deduplicates, so equal bytes share a block and the answer must be exact (not only a
 * superset), which these tests check.
 */
class ChangedBlocksTest {
  private static final int B = BlockPool.BLOCK_SIZE;
  private static final int G = GranuleDigests.GRANULE_BYTES;
  private static final long CAPACITY = 64L << 20;
  // Not a multiple of 64 KiB nor of 4 KiB: the last granule and the last block are partial.
  private static final long SIZE = 8L * 1024 * 1024 + 5120;

  @TempDir Path dir;
  private BlockPool pool;
  private final Map<String, byte[]> shadow = new HashMap<>();

  @BeforeEach
  void open() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
  }

  @AfterEach
  void close() throws IOException {
    if (pool != null) {
      pool.close();
    }
  }

  private LunInfo create(long size) {
    LunInfo l = pool.luns().create("l", size, Map.of());
    shadow.put(l.id(), new byte[(int) size]);
    return l;
  }

  private LunInfo snapshot(LunInfo of) {
    LunInfo s = pool.luns().snapshot(of.id(), "s", Map.of());
    shadow.put(s.id(), shadow.get(of.id()).clone());
    return s;
  }

  private void write(LunInfo l, long offset, byte[] data) throws IOException {
    pool.write(l.lun(), offset, data, 0, data.length);
    System.arraycopy(data, 0, shadow.get(l.id()), (int) offset, data.length);
  }

  private void writeRandom(LunInfo l, Random r, long offset, int len) throws IOException {
    byte[] data = new byte[len];
    r.nextBytes(data);
    write(l, offset, data);
  }

  /** The granules whose bytes differ in the shadows (bytes past an end read as zeros). */
  private BitSet expected(LunInfo from, LunInfo to) {
    byte[] a = shadow.get(from.id());
    byte[] b = shadow.get(to.id());
    BitSet out = new BitSet();
    for (int g = 0; (long) g * G < b.length; g++) {
      int start = g * G;
      int end = Math.min(b.length, start + G);
      byte[] x = Arrays.copyOfRange(a, Math.min(start, a.length), Math.min(end, a.length));
      byte[] y = Arrays.copyOfRange(b, start, end);
      if (!Arrays.equals(Arrays.copyOf(x, y.length), y)) {
        out.set(g);
      }
    }
    return out;
  }

  private void assertDiff(LunInfo from, LunInfo to, String what) {
    BlockDiff d = pool.luns().changedBlocks(to.id(), from.id());
    assertThat(d.granuleBytes()).isEqualTo(G);
    assertThat(d.sizeBytes()).isEqualTo(shadow.get(to.id()).length);
    assertThat(d.changed()).as("changed granules " + what).isEqualTo(expected(from, to));
  }

  /** A LUN of {@link #SIZE} random bytes. */
  private LunInfo filled(Random r) throws IOException {
    LunInfo a = create(SIZE);
    writeRandom(a, r, 0, (int) SIZE);
    return a;
  }

  private BitSet changed(LunInfo from, LunInfo to) {
    return pool.luns().changedBlocks(to.id(), from.id()).changed();
  }

  private BitSet granulesOf(long offset, int len) {
    BitSet b = new BitSet();
    b.set((int) (offset / G), (int) ((offset + len - 1) / G) + 1);
    return b;
  }

  @Test
  void snapshotChainsDifferExactlyWhereWritten() throws IOException {
    Random r = new Random(1);
    LunInfo a = filled(r);
    LunInfo s1 = snapshot(a);
    assertDiff(s1, a, "right after the snapshot");
    assertThat(changed(s1, a)).isEqualTo(new BitSet());
    // Unaligned writes, one byte, block-straddling, granule-straddling, the very last byte.
    writeRandom(a, r, 100, 10);
    writeRandom(a, r, 3L * G - 7, 20);
    writeRandom(a, r, 5L * G + B - 1, 2);
    writeRandom(a, r, SIZE - 1, 1);
    BitSet first = new BitSet();
    first.or(granulesOf(100, 10));
    first.or(granulesOf(3L * G - 7, 20));
    first.or(granulesOf(5L * G + B - 1, 2));
    first.or(granulesOf(SIZE - 1, 1));
    assertThat(changed(s1, a)).as("exactly the granules written").isEqualTo(first);
    LunInfo s2 = snapshot(a);
    for (int i = 0; i < 40; i++) {
      writeRandom(a, r, r.nextLong(SIZE - 70000), 1 + r.nextInt(70000));
    }
    LunInfo s3 = snapshot(a);
    writeRandom(a, r, 2L * G, G);
    assertDiff(s1, s2, "s1 -> s2");
    assertDiff(s1, s3, "s1 -> s3");
    assertDiff(s2, s3, "s2 -> s3");
    assertDiff(s3, a, "s3 -> live");
    assertDiff(s1, a, "s1 -> live");
    assertDiff(s3, s1, "in reverse order");
    pool.luns().delete(s2.id());
    assertDiff(s1, a, "s1 -> live after the snapshot between was deleted");
  }

  @Test
  void rewritingTheSameBytesIsNoChangeAndZeroingIs() throws IOException {
    Random r = new Random(2);
    LunInfo a = create(SIZE);
    byte[] data = new byte[3 * G];
    r.nextBytes(data);
    write(a, G, data);
    LunInfo s1 = snapshot(a);
    write(a, G, data); // the same bytes again: dedup maps them to the same blocks
    write(a, 6L * G, new byte[G]); // zeros where there were zeros
    assertThat(changed(s1, a)).isEqualTo(new BitSet());
    pool.zero(a.lun(), 2L * G, G);
    Arrays.fill(shadow.get(a.id()), 2 * G, 3 * G, (byte) 0);
    assertThat(changed(s1, a)).isEqualTo(granulesOf(2L * G, G));
    assertDiff(s1, a, "after zeroing");
  }

  @Test
  void dataDestroyKeepsExactAnswersWhenItsFreedBlocksAreReused() throws IOException {
    Random r = new Random(3);
    LunInfo a = filled(r);
    LunInfo s1 = snapshot(a);
    // After this write s1 alone holds the old block at index 7.
    writeRandom(a, r, 7L * B, B);
    int held = pool.state.luns.get(s1.id()).map.get(7);
    assertThat(pool.state.refs(held)).as("s1 holds its block 7 alone").isEqualTo(1);
    LunInfo s2 = snapshot(a);
    long before = pool.stats().physicalUsedBytes();
    LunInfo destroyed = pool.luns().dataDestroy(s1.id(), null);
    pool.flush(); // released blocks become reusable after a sync
    assertThat(destroyed.dataDestroyed()).isTrue();
    assertThat(destroyed.allocatedBytes()).isZero();
    assertThat(pool.stats().physicalUsedBytes()).isEqualTo(before - B);
    assertThat(pool.state.refs(held)).isZero();
    // The live LUN writes new bytes at the same index: the pool hands it the freed block. A diff
    // by block numbers against s1's old map would now call block 7 unchanged.
    writeRandom(a, r, 7L * B, B);
    assertThat(pool.state.luns.get(a.id()).map.get(7))
        .as("block 7 of the live LUN reuses the block s1 held")
        .isEqualTo(held);
    assertDiff(s1, a, "from the destroyed s1, after its block was reused at the same index");
    assertThat(changed(s1, a).get(7 * B / G)).isTrue();
    // Other LUNs take more freed blocks; the answers stay exact.
    LunInfo b = create(SIZE);
    writeRandom(b, r, 0, 64 * B);
    writeRandom(a, r, 40L * B, 3 * B);
    assertDiff(s1, a, "after other LUNs wrote");
    assertDiff(s1, s2, "destroyed -> a live snapshot");
    assertDiff(s2, a, "live -> live beside a destroyed one");
    LunInfo s3 = snapshot(a);
    pool.luns().dataDestroy(s2.id(), null);
    pool.luns().dataDestroy(s3.id(), null);
    assertDiff(s1, s3, "between two destroyed snapshots");
    assertDiff(s3, a, "destroyed s3 -> live");
    assertDiff(s1, b, "to an unrelated LUN: where the bytes differ");
  }

  @Test
  void answersSurviveCheckpointsJournalReplayAndACrash() throws IOException {
    Random r = new Random(4);
    LunInfo a = create(SIZE);
    writeRandom(a, r, 0, 40 * G);
    LunInfo s1 = snapshot(a);
    writeRandom(a, r, 3L * G + 5, 9000);
    LunInfo s2 = snapshot(a);
    pool.luns().dataDestroy(s1.id(), Map.of("type", "cbt_metadata"));
    pool.close(); // clean: the checkpoint holds s1's digests
    pool = BlockPool.open(dir, CAPACITY);
    assertThat(pool.luns().info(s1.id()).dataDestroyed()).isTrue();
    assertThat(pool.luns().info(s1.id()).metadata()).isEqualTo(Map.of("type", "cbt_metadata"));
    assertDiff(s1, s2, "after a restart from the checkpoint");
    writeRandom(a, r, 20L * G, 100);
    pool.luns().dataDestroy(s2.id(), null); // only in the journal
    writeRandom(a, r, 30L * G, 100);
    pool.flush();
    pool.abandon(); // a crash: no checkpoint, the journal is replayed
    pool = BlockPool.open(dir, CAPACITY);
    assertThat(pool.luns().info(s2.id()).dataDestroyed()).isTrue();
    assertDiff(s1, s2, "destroyed -> destroyed after replay");
    assertDiff(s1, a, "destroyed (checkpoint) -> live after replay");
    assertDiff(s2, a, "destroyed (journal) -> live after replay");
    pool.checkpoint();
    pool.abandon();
    pool = BlockPool.open(dir, CAPACITY);
    assertDiff(s2, a, "after a checkpoint holding both");
  }

  @Test
  void aDestroyedLunLeavesTheTargetAndRefusesWhatNeedsData() throws IOException {
    LunInfo a = create(SIZE);
    writeRandom(a, new Random(5), 0, 4 * B);
    assertThatThrownBy(() -> pool.luns().dataDestroy(a.id(), null))
        .isInstanceOf(ArrayException.class)
        .hasMessageContaining("writable");
    assertThat(pool.luns().info(a.id()).dataDestroyed()).isFalse();
    LunInfo s = snapshot(a);
    pool.luns().dataDestroy(s.id(), null);
    pool.luns().dataDestroy(s.id(), Map.of("k", "v")); // again: only the metadata changes
    assertThat(pool.luns().info(s.id()).metadata()).isEqualTo(Map.of("k", "v"));
    assertThat(pool.luns().byNumberOrNull(s.lun())).isNull();
    assertThatThrownBy(() -> pool.read(s.lun(), 0, new byte[B], 0, B))
        .isInstanceOf(ArrayException.class);
    for (Runnable refused :
        new Runnable[] {
          () -> pool.luns().resize(s.id(), 2 * SIZE),
          () -> pool.luns().snapshot(s.id(), "x", Map.of()),
          () -> pool.luns().clone(s.id(), "x", Map.of())
        }) {
      assertThatThrownBy(refused::run)
          .isInstanceOf(ArrayException.class)
          .hasMessageContaining("data was destroyed");
    }
    assertThat(pool.luns().list()).hasSize(2);
    pool.luns().delete(s.id());
    assertThat(pool.luns().list()).hasSize(1);
    assertThatThrownBy(() -> pool.luns().changedBlocks(a.id(), s.id()))
        .isInstanceOf(ArrayException.class)
        .hasMessageContaining("no LUN");
  }

  @Test
  void aGrownLunDiffersOnlyWhereItWasWrittenPastTheOldEnd() throws IOException {
    Random r = new Random(6);
    LunInfo a = filled(r);
    LunInfo s1 = snapshot(a);
    long grown = SIZE + 10L * G;
    pool.luns().resize(a.id(), grown);
    shadow.put(a.id(), Arrays.copyOf(shadow.get(a.id()), (int) grown));
    a = pool.luns().info(a.id());
    writeRandom(a, r, SIZE + 4L * G, 10);
    assertDiff(s1, a, "to a grown LUN");
    pool.luns().dataDestroy(s1.id(), null);
    assertDiff(s1, a, "from a destroyed snapshot to a grown LUN");
  }

  @Test
  void answersAreExactAcrossSlicesOfALargeThinLun() throws IOException {
    Random r = new Random(7);
    long slice = (long) LunDiff.SLICE_GRANULES * G; // 256 MiB, the unit of work under the lock
    long size = 3 * slice + 5 * G + 512;
    LunInfo a = pool.luns().create("big", size, Map.of());
    long[] before = {0, slice - G, slice, 2 * slice + 7 * G, size - 512};
    for (long at : before) {
      byte[] data = new byte[512];
      r.nextBytes(data);
      pool.write(a.lun(), at, data, 0, data.length);
    }
    LunInfo s1 = pool.luns().snapshot(a.id(), "s1", Map.of());
    BitSet expected = new BitSet();
    // Around each slice boundary, in a slice nobody wrote before (the second), and at the end.
    long[] after = {slice - 1, 2 * slice - G + 100, 2 * slice + 7 * G, size - 1};
    for (long at : after) {
      byte[] data = new byte[1];
      r.nextBytes(data);
      data[0] |= 1; // never the zero byte that was there
      pool.write(a.lun(), at, data, 0, 1);
      expected.or(granulesOf(at, 1));
    }
    expected.or(granulesOf(slice, 1)); // slice - 1 and slice share no granule: add the next one
    pool.write(a.lun(), slice, new byte[] {1}, 0, 1);
    assertThat(changed(s1, a)).as("live -> live").isEqualTo(expected);
    pool.luns().dataDestroy(s1.id(), null);
    assertThat(changed(s1, a)).as("destroyed -> live").isEqualTo(expected);
    BlockDiff d = pool.luns().changedBlocks(a.id(), s1.id());
    assertThat(d.granules()).isEqualTo(3 * LunDiff.SLICE_GRANULES + 6);
  }
}
