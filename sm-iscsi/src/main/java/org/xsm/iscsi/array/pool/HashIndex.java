package org.xsm.iscsi.array.pool;

import java.util.Arrays;

/**
 * The dedup index: the first 64 bits of a block's content hash to the block number. Open addressing
 * with linear probing and backward-shift deletion, in two primitive arrays, so a pool of millions
 * of blocks costs 12 bytes an entry instead of a boxed map's ~80.
 *
 * <p>The key is only a prefix: a hit is a candidate that the caller confirms against the block's
 * full hash. Not thread-safe; the pool guards it.
 */
final class HashIndex {
  private static final int EMPTY = -1;
  private long[] keys;
  private int[] blocks;
  private int size;

  HashIndex() {
    keys = new long[1024];
    blocks = new int[1024];
    Arrays.fill(blocks, EMPTY);
  }

  int size() {
    return size;
  }

  /** The block indexed under {@code key}, or -1. */
  int get(long key) {
    int mask = keys.length - 1;
    for (int i = slot(key, mask); blocks[i] != EMPTY; i = (i + 1) & mask) {
      if (keys[i] == key) {
        return blocks[i];
      }
    }
    return EMPTY;
  }

  /** Indexes {@code block} under {@code key} unless the key is already taken. */
  void putIfAbsent(long key, int block) {
    if ((size + 1) * 4L > keys.length * 3L) {
      grow();
    }
    int mask = keys.length - 1;
    int i = slot(key, mask);
    while (blocks[i] != EMPTY) {
      if (keys[i] == key) {
        return;
      }
      i = (i + 1) & mask;
    }
    keys[i] = key;
    blocks[i] = block;
    size++;
  }

  /** Removes the entry for {@code key} if it names {@code block}. */
  void remove(long key, int block) {
    int mask = keys.length - 1;
    int i = slot(key, mask);
    while (blocks[i] != EMPTY) {
      if (keys[i] == key) {
        if (blocks[i] == block) {
          deleteAt(i, mask);
        }
        return;
      }
      i = (i + 1) & mask;
    }
  }

  // Backward shift: move later entries of the probe run into the hole so lookups never stop early.
  private void deleteAt(int hole, int mask) {
    blocks[hole] = EMPTY;
    size--;
    int i = (hole + 1) & mask;
    while (blocks[i] != EMPTY) {
      int home = slot(keys[i], mask);
      boolean movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
      if (movable) {
        keys[hole] = keys[i];
        blocks[hole] = blocks[i];
        blocks[i] = EMPTY;
        hole = i;
      }
      i = (i + 1) & mask;
    }
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldBlocks = blocks;
    keys = new long[oldKeys.length * 2];
    blocks = new int[oldKeys.length * 2];
    Arrays.fill(blocks, EMPTY);
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldBlocks[i] != EMPTY) {
        putIfAbsent(oldKeys[i], oldBlocks[i]);
      }
    }
  }

  private static int slot(long key, int mask) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32)) & mask;
  }
}
