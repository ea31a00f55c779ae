package org.xsm.iscsi.array.pool;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The pool's metadata in memory: LUNs with their block maps, per-block reference counts and content
 * hashes, and the dedup index. Every change goes through the few methods here, the same ones the
 * live pool and journal replay call, so a replayed pool equals the pool that wrote the journal.
 * Reference counts are never stored: they are recounted from the block maps on load. Not
 * thread-safe; {@link BlockPool} guards it.
 */
final class PoolState {
  static final int HASH_BYTES = 32;

  final int blockSize;
  final Map<String, Lun> luns = new LinkedHashMap<>();
  final Map<Integer, Lun> byNumber = new TreeMap<>();
  final HashIndex index = new HashIndex();
  int[] refs = new int[1024];
  byte[] hashes = new byte[1024 * HASH_BYTES];

  /** Blocks below this number have been handed out at least once. */
  int highWater;

  int nextLunNumber;
  long usedBlocks;
  long logicalBlocks;

  PoolState(int blockSize) {
    this.blockSize = blockSize;
  }

  void addLun(Lun lun) {
    luns.put(lun.id, lun);
    byNumber.put(lun.number, lun);
    nextLunNumber = Math.max(nextLunNumber, lun.number + 1);
    lun.map.forEachMapped(
        b -> {
          lun.mappedBlocks++;
          logicalBlocks++;
          addRef(b, null);
        });
  }

  /** Drops a LUN; returns blocks whose last reference went away. */
  void removeLun(Lun lun, FreedBlocks freed) {
    luns.remove(lun.id);
    byNumber.remove(lun.number);
    lun.map.forEachMapped(
        b -> {
          logicalBlocks--;
          release(b, freed);
        });
  }

  /** A new LUN sharing every block of {@code source}: metadata only. */
  Lun copyOf(Lun source, Lun fresh) {
    fresh.map = source.map.copy();
    addLun(fresh);
    return fresh;
  }

  /**
   * Destroys a LUN's data: it keeps the content digests of its granules ({@code digests}, computed
   * by the caller from this map, or null to compute them now, while its blocks are live) and
   * releases every block.
   */
  void dataDestroy(Lun lun, GranuleDigests digests, FreedBlocks freed) {
    lun.digests = digests != null ? digests : GranuleDigests.of(lun.map, this);
    BlockMap old = lun.map;
    lun.map = new BlockMap(old.length());
    lun.mappedBlocks = 0;
    old.forEachMapped(
        b -> {
          logicalBlocks--;
          release(b, freed);
        });
  }

  void resize(Lun lun, long sizeBytes) {
    lun.sizeBytes = sizeBytes;
    lun.map.grow(Lun.blockCount(sizeBytes, blockSize));
  }

  /**
   * Points LUN block {@code index} at pool block {@code block} (or {@link Lun#ZERO}). A block
   * referenced for the first time takes {@code hash} as its content hash and enters the index.
   */
  void map(Lun lun, int index, int block, byte[] hash, FreedBlocks freed) {
    int old = lun.map.get(index);
    if (block != Lun.ZERO) {
      addRef(block, hash);
      lun.mappedBlocks++;
      logicalBlocks++;
    }
    lun.map.set(index, block);
    if (old != Lun.ZERO) {
      lun.mappedBlocks--;
      logicalBlocks--;
      release(old, freed);
    }
  }

  /** A live block with exactly this content hash, or -1. */
  int findDuplicate(byte[] hash) {
    int b = index.get(key(hash, 0));
    if (b >= 0
        && refs[b] > 0
        && Arrays.equals(hashes, b * HASH_BYTES, (b + 1) * HASH_BYTES, hash, 0, HASH_BYTES)) {
      return b;
    }
    return -1;
  }

  /** Takes a block out of the dedup index (its content no longer known to match its hash). */
  void unindex(int block) {
    index.remove(key(hashes, block * HASH_BYTES), block);
  }

  byte[] hashOf(int block) {
    return Arrays.copyOfRange(hashes, block * HASH_BYTES, (block + 1) * HASH_BYTES);
  }

  int refs(int block) {
    return block < highWater ? refs[block] : 0;
  }

  Collection<Lun> allLuns() {
    return luns.values();
  }

  private void addRef(int block, byte[] hash) {
    ensureCapacity(block + 1);
    if (refs[block]++ == 0) {
      usedBlocks++;
      if (hash != null) {
        System.arraycopy(hash, 0, hashes, block * HASH_BYTES, HASH_BYTES);
        index.putIfAbsent(key(hash, 0), block);
      }
    }
  }

  private void release(int block, FreedBlocks freed) {
    if (--refs[block] == 0) {
      usedBlocks--;
      unindex(block);
      freed.add(block);
    }
  }

  void ensureCapacity(int blocks) {
    if (blocks > refs.length) {
      int n = Math.max(blocks, refs.length * 2);
      refs = Arrays.copyOf(refs, n);
      hashes = Arrays.copyOf(hashes, n * HASH_BYTES);
    }
    highWater = Math.max(highWater, blocks);
  }

  static long key(byte[] hash, int offset) {
    return ByteBuffer.wrap(hash, offset, 8).getLong();
  }

  /** Receives blocks whose reference count dropped to zero. */
  interface FreedBlocks {
    void add(int block);
  }
}
