package org.xsm.iscsi.array.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.iscsi.array.ArrayException;

class BlockPoolTest {
  private static final int B = BlockPool.BLOCK_SIZE;
  private static final long CAPACITY = 64L << 20;

  @TempDir Path dir;
  private BlockPool pool;

  @AfterEach
  void close() throws IOException {
    if (pool != null) {
      pool.close();
    }
  }

  private LunInfo lun(long size) {
    return pool.luns().create("l", size, Map.of());
  }

  private static byte[] random(int len, long seed) {
    byte[] b = new byte[len];
    new Random(seed).nextBytes(b);
    return b;
  }

  private byte[] read(int lun, long offset, int len) throws IOException {
    byte[] b = new byte[len];
    pool.read(lun, offset, b, 0, len);
    return b;
  }

  @Test
  void identicalBlocksAreStoredOnce() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
    LunInfo a = lun(1 << 20);
    byte[] block = random(B, 1);
    for (int i = 0; i < 10; i++) {
      pool.write(a.lun(), (long) i * B, block, 0, B);
    }
    PoolStats s = pool.stats();
    assertThat(s.physicalUsedBytes()).isEqualTo(B);
    assertThat(s.logicalBytes()).isEqualTo(10L * B);
    assertThat(s.dedupRatio()).isEqualTo(10.0);
    assertThat(read(a.lun(), 9L * B, B)).isEqualTo(block);
  }

  @Test
  void zeroBlocksTakeNoSpaceAndUnwrittenReadsAsZero() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
    LunInfo a = lun(1 << 20);
    pool.write(a.lun(), 0, random(B, 2), 0, B);
    assertThat(pool.stats().physicalUsedBytes()).isEqualTo(B);
    pool.write(a.lun(), 0, new byte[B], 0, B);
    pool.flush();
    assertThat(pool.stats().physicalUsedBytes()).isZero();
    assertThat(read(a.lun(), 0, 3 * B)).isEqualTo(new byte[3 * B]);
  }

  @Test
  void partialWritesMergeWithTheBlock() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
    LunInfo a = lun(1 << 20);
    byte[] base = random(2 * B, 3);
    pool.write(a.lun(), 0, base, 0, 2 * B);
    byte[] patch = random(1000, 4);
    pool.write(a.lun(), B - 500, patch, 0, 1000); // straddles two blocks
    System.arraycopy(patch, 0, base, B - 500, 1000);
    assertThat(read(a.lun(), 0, 2 * B)).isEqualTo(base);
  }

  @Test
  void cloneSharesBlocksUntilWrittenAndSnapshotIsReadOnly() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
    LunInfo a = lun(16L * B);
    byte[] data = random(16 * B, 5);
    pool.write(a.lun(), 0, data, 0, data.length);
    LunInfo snap = pool.luns().snapshot(a.id(), "s", Map.of("k", "v"));
    LunInfo clone = pool.luns().clone(a.id(), "c", Map.of());
    assertThat(snap.readOnly()).isTrue();
    assertThat(snap.snapshotOf()).isEqualTo(a.id());
    assertThat(clone.cloneOf()).isEqualTo(a.id());
    assertThat(pool.stats().physicalUsedBytes()).isEqualTo(16L * B);

    byte[] changed = random(B, 6);
    pool.write(clone.lun(), 3L * B, changed, 0, B);
    assertThat(pool.stats().physicalUsedBytes()).isEqualTo(17L * B);
    assertThat(read(a.lun(), 0, 16 * B)).isEqualTo(data);
    assertThat(read(snap.lun(), 0, 16 * B)).isEqualTo(data);
    assertThat(read(clone.lun(), 3L * B, B)).isEqualTo(changed);
    assertThatThrownBy(() -> pool.write(snap.lun(), 0, changed, 0, B))
        .isInstanceOf(ReadOnlyException.class);
  }

  @Test
  void deletingTheOriginKeepsSnapshotDataAndFreesOnlyUnsharedBlocks() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
    LunInfo a = lun(8L * B);
    byte[] data = random(8 * B, 7);
    pool.write(a.lun(), 0, data, 0, data.length);
    LunInfo snap = pool.luns().snapshot(a.id(), "s", Map.of());
    pool.write(a.lun(), 0, random(2 * B, 8), 0, 2 * B); // two blocks now only in the origin
    assertThat(pool.stats().physicalUsedBytes()).isEqualTo(10L * B);
    pool.luns().delete(a.id());
    pool.flush();
    assertThat(pool.stats().physicalUsedBytes()).isEqualTo(8L * B);
    assertThat(read(snap.lun(), 0, 8 * B)).isEqualTo(data);
    assertThatThrownBy(() -> pool.luns().info(a.id()))
        .isInstanceOfSatisfying(
            ArrayException.class,
            e -> assertThat(e.kind()).isEqualTo(ArrayException.Kind.NOT_FOUND));
  }

  @Test
  void aFullPoolRecyclesReleasedBlocksBySyncingAndThenReportsNoSpace() throws IOException {
    pool = BlockPool.open(dir, 5L * B); // four blocks of data and one spare
    LunInfo a = lun(8L * B);
    pool.write(a.lun(), 0, random(4 * B, 9), 0, 4 * B);
    // Each overwrite needs a new block; the released one is not reusable before a sync (an old
    // map may still name it), so when the pool runs dry it syncs by itself and carries on.
    for (int i = 0; i < 4; i++) {
      pool.write(a.lun(), (long) i * B, random(B, 100 + i), 0, B);
    }
    for (int i = 0; i < 4; i++) {
      assertThat(read(a.lun(), (long) i * B, B)).isEqualTo(random(B, 100 + i));
    }
    pool.write(a.lun(), 4L * B, random(B, 11), 0, B); // the fifth block fills the pool
    assertThatThrownBy(() -> pool.write(a.lun(), 5L * B, random(B, 12), 0, B))
        .isInstanceOf(NoSpaceException.class);
    assertThat(pool.stats().freeBytes()).isZero();
  }

  @Test
  void resizeGrowsWithZerosAndRefusesToShrink() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
    LunInfo a = lun(1000);
    assertThat(a.sizeBytes()).isEqualTo(1024);
    LunInfo grown = pool.luns().resize(a.id(), 3L * B);
    assertThat(grown.sizeBytes()).isEqualTo(3L * B);
    assertThat(read(a.lun(), 0, 3 * B)).isEqualTo(new byte[3 * B]);
    assertThatThrownBy(() -> pool.luns().resize(a.id(), B))
        .isInstanceOfSatisfying(
            ArrayException.class,
            e -> assertThat(e.kind()).isEqualTo(ArrayException.Kind.BAD_REQUEST));
    assertThatThrownBy(() -> pool.read(a.lun(), 3L * B - 10, new byte[20], 0, 20))
        .isInstanceOf(OutOfRangeException.class);
  }

  @Test
  void stateSurvivesCleanCloseAndCheckpoint() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
    LunInfo a = lun(8L * B);
    byte[] data = random(8 * B, 12);
    pool.write(a.lun(), 0, data, 0, data.length);
    LunInfo clone = pool.luns().clone(a.id(), "c", Map.of("x", "y"));
    pool.write(clone.lun(), 0, random(B, 13), 0, B);
    PoolStats before = pool.stats();
    pool.close();
    pool = BlockPool.open(dir, CAPACITY);
    assertThat(pool.stats()).isEqualTo(before);
    assertThat(pool.luns().info(clone.id()).metadata()).containsEntry("x", "y");
    assertThat(read(a.lun(), 0, 8 * B)).isEqualTo(data);
    assertThat(read(clone.lun(), 0, B)).isEqualTo(random(B, 13));
    // Dedup still finds blocks after a reload (the index is rebuilt from the checkpoint).
    pool.write(a.lun(), 0, random(B, 13), 0, B);
    assertThat(pool.stats().physicalUsedBytes()).isEqualTo(before.physicalUsedBytes());
  }

  @Test
  void journalReplayAfterACrashRestoresEverythingWritten() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
    LunInfo a = lun(32L * B);
    byte[] data = random(32 * B, 14);
    pool.write(a.lun(), 0, data, 0, data.length);
    pool.checkpoint();
    LunInfo snap = pool.luns().snapshot(a.id(), "s", Map.of());
    pool.write(a.lun(), 5L * B, random(3 * B, 15), 0, 3 * B);
    pool.luns().setMetadata(a.id(), Map.of("after", "checkpoint"));
    PoolStats before = pool.stats();
    pool.abandon(); // no flush, no checkpoint: as if killed
    pool = BlockPool.open(dir, CAPACITY);
    assertThat(pool.stats().physicalUsedBytes()).isEqualTo(before.physicalUsedBytes());
    assertThat(pool.luns().info(a.id()).metadata()).containsEntry("after", "checkpoint");
    assertThat(read(snap.lun(), 0, 32 * B)).isEqualTo(data);
    System.arraycopy(random(3 * B, 15), 0, data, 5 * B, 3 * B);
    assertThat(read(a.lun(), 0, 32 * B)).isEqualTo(data);
  }

  @Test
  void aBlockWhoseDataNeverReachedTheDiskIsNotOfferedForDedupAfterRecovery() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
    LunInfo a = lun(8L * B);
    byte[] synced = random(B, 20);
    pool.write(a.lun(), 0, synced, 0, B);
    pool.flush();
    byte[] unsynced = random(B, 21);
    pool.write(a.lun(), B, unsynced, 0, B); // journalled, never flushed
    pool.abandon();
    // A power cut: the journal record reached the disk, the data block did not.
    try (java.nio.channels.FileChannel data =
        java.nio.channels.FileChannel.open(
            dir.resolve("pool.data"), java.nio.file.StandardOpenOption.WRITE)) {
      data.write(java.nio.ByteBuffer.wrap(new byte[B]), B);
    }
    pool = BlockPool.open(dir, CAPACITY);
    // The unacknowledged write may read as anything; here it reads what the block holds.
    assertThat(read(a.lun(), B, B)).isEqualTo(new byte[B]);
    // Writing its content again must store it, not point at the block that lacks it.
    pool.write(a.lun(), 2L * B, unsynced, 0, B);
    assertThat(read(a.lun(), 2L * B, B)).isEqualTo(unsynced);
    // A synced block is still deduplicated.
    long used = pool.stats().physicalUsedBytes();
    pool.write(a.lun(), 3L * B, synced, 0, B);
    assertThat(pool.stats().physicalUsedBytes()).isEqualTo(used);
  }

  @Test
  void aDamagedCheckpointIsRefusedWithThePreciseReason() throws IOException {
    pool = BlockPool.open(dir, CAPACITY);
    pool.write(lun(8L * B).lun(), 0, random(B, 30), 0, B);
    pool.close();
    pool = null;
    Path ckpt = dir.resolve("pool.ckpt");
    byte[] bytes = java.nio.file.Files.readAllBytes(ckpt);
    bytes[30] ^= 0x01; // inside the first block's hash: only the checksum can notice
    java.nio.file.Files.write(ckpt, bytes);
    assertThatThrownBy(() -> BlockPool.open(dir, CAPACITY))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("checkpoint checksum mismatch in " + ckpt);
  }

  @Test
  void aHugeThinLunCostsMetadataOnlyWhereWritten() throws IOException {
    long size = 4L << 40; // 4 TiB: a flat map would be 4 GiB of heap
    pool = BlockPool.open(dir, CAPACITY);
    LunInfo big = pool.luns().create("big", size, Map.of());
    pool.write(big.lun(), size - B, random(B, 40), 0, B);
    LunInfo clone = pool.luns().clone(big.id(), "c", Map.of());
    BlockPool.Extent hole = pool.extent(big.lun(), 0);
    assertThat(hole.mapped()).isFalse();
    assertThat(hole.lengthBytes()).isEqualTo(size - B);
    pool.close();
    assertThat(java.nio.file.Files.size(dir.resolve("pool.ckpt"))).isLessThan(1 << 20);
    pool = BlockPool.open(dir, CAPACITY);
    assertThat(read(clone.lun(), size - B, B)).isEqualTo(random(B, 40));
    assertThat(pool.stats().physicalUsedBytes()).isEqualTo(B);
  }
}
