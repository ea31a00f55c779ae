package org.xsm.iscsi.array.pool;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * A LUN's block map: LUN block index to pool block number, {@link Lun#ZERO} for blocks that read as
 * zeros. Stored in chunks of 64 Ki entries (256 MiB of LUN) created on first write, so a large,
 * thinly used LUN costs memory only for the parts written. Not thread-safe; the pool guards it.
 */
final class BlockMap {
  static final int CHUNK_BITS = 16;
  static final int CHUNK = 1 << CHUNK_BITS;

  private int[][] chunks;
  private int length;

  BlockMap(int length) {
    this.length = length;
    this.chunks = new int[chunkCount(length)][];
  }

  private static int chunkCount(int length) {
    return (int) (((long) length + CHUNK - 1) >>> CHUNK_BITS);
  }

  int length() {
    return length;
  }

  int get(int index) {
    int[] c = chunks[index >>> CHUNK_BITS];
    return c == null ? Lun.ZERO : c[index & (CHUNK - 1)];
  }

  void set(int index, int block) {
    int ci = index >>> CHUNK_BITS;
    int[] c = chunks[ci];
    if (c == null) {
      if (block == Lun.ZERO) {
        return;
      }
      c = new int[CHUNK];
      Arrays.fill(c, Lun.ZERO);
      chunks[ci] = c;
    }
    c[index & (CHUNK - 1)] = block;
  }

  /** Grows to {@code newLength} entries; the new ones are {@link Lun#ZERO}. */
  void grow(int newLength) {
    if (newLength > length) {
      chunks = Arrays.copyOf(chunks, chunkCount(newLength));
      length = newLength;
    }
  }

  BlockMap copy() {
    BlockMap m = new BlockMap(length);
    for (int i = 0; i < chunks.length; i++) {
      m.chunks[i] = chunks[i] == null ? null : chunks[i].clone();
    }
    return m;
  }

  /** Calls {@code action} with every mapped pool block (one call per LUN block mapping it). */
  void forEachMapped(IntConsumer action) {
    for (int[] c : chunks) {
      if (c != null) {
        for (int b : c) {
          if (b != Lun.ZERO) {
            action.accept(b);
          }
        }
      }
    }
  }

  /** The first index at or after {@code from} whose mapped state differs from {@code mapped}. */
  int runEnd(int from, boolean mapped) {
    int i = from;
    while (i < length) {
      int[] c = chunks[i >>> CHUNK_BITS];
      if (c == null) {
        if (mapped) {
          return i;
        }
        i = ((i >>> CHUNK_BITS) + 1) << CHUNK_BITS; // skip an unwritten chunk at once
        continue;
      }
      if ((c[i & (CHUNK - 1)] != Lun.ZERO) != mapped) {
        return i;
      }
      i++;
    }
    return length;
  }

  /** Chunks for the checkpoint: null for a chunk never written. */
  int[] chunk(int i) {
    return chunks[i];
  }

  int chunkCount() {
    return chunks.length;
  }

  void setChunk(int i, int[] c) {
    chunks[i] = c;
  }
}
