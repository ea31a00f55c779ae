package org.xsm.plugins.vhd;

import java.io.IOException;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sector bitmaps of one VHD file's blocks held in memory: clean ones in a bounded LRU, changed
 * ones until {@link VhdImage#flush} writes them, and the blocks known to be full (every sector
 * present: from the batmap, or seen all ones), whose bitmaps reads need not look at.
 *
 * <p>Not thread-safe: the image calls it under its own lock.
 */
final class SectorBitmaps {
  private static final int CACHE_ENTRIES = 8192;

  /** Writes one block's bitmap to the file. */
  @FunctionalInterface
  interface Writer {
    void write(int block, byte[] bitmap) throws IOException;
  }

  private final int sectorsPerBlock;
  private final BitSet full = new BitSet();
  private final Map<Integer, byte[]> cache =
      new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, byte[]> e) {
          return size() > CACHE_ENTRIES;
        }
      };
  private final Map<Integer, byte[]> dirty = new TreeMap<>();

  /**
   * Counts changes: a bitmap read from the file outside the lock ({@link VhdImage#loadBitmap}) is
   * kept only if none happened since its read was planned, since the cache may have evicted a newer
   * bitmap meanwhile.
   */
  private long changes;

  SectorBitmaps(int sectorsPerBlock) {
    this.sectorsPerBlock = sectorsPerBlock;
  }

  boolean isFull(int block) {
    return full.get(block);
  }

  /** The batmap says the block is full. */
  void setFull(int block) {
    full.set(block);
  }

  long changes() {
    return changes;
  }

  /** The block's bitmap if it is in memory (changed or cached), else null. */
  byte[] inMemory(int block) {
    byte[] b = dirty.get(block);
    return b != null ? b : cache.get(block);
  }

  /** Whether a read of the block needs no bitmap from the file: full, or its bitmap in memory. */
  boolean known(int block) {
    return full.get(block) || dirty.containsKey(block) || cache.containsKey(block);
  }

  /** A bitmap read from the file. */
  void loaded(int block, byte[] bitmap) {
    cache.put(block, bitmap);
    if (allOnes(bitmap)) {
      full.set(block);
    }
  }

  /** A new block: all sectors absent, to be written by the next flush. */
  void newBlock(int block, int bytes) {
    dirty.put(block, new byte[bytes]);
    cache.remove(block);
    changes++;
  }

  /**
   * Marks {@code count} sectors from {@code first} present in the block whose bitmap is now {@code
   * current}; returns whether the block became full.
   */
  boolean markPresent(int block, byte[] current, int first, int count) {
    changes++;
    byte[] b = dirty.get(block);
    if (b == null) {
      b = current.clone();
      cache.remove(block);
      dirty.put(block, b);
    }
    for (int s = first; s < first + count; s++) {
      b[s >>> 3] |= (byte) (0x80 >>> (s & 7));
    }
    if (allOnes(b)) {
      full.set(block);
      return true;
    }
    return false;
  }

  boolean hasChanges() {
    return !dirty.isEmpty();
  }

  /** Writes every changed bitmap (by block number) and keeps it as a clean one. */
  void writeChanges(Writer w) throws IOException {
    for (Map.Entry<Integer, byte[]> e : dirty.entrySet()) {
      w.write(e.getKey(), e.getValue());
      cache.put(e.getKey(), e.getValue());
    }
    dirty.clear();
  }

  private boolean allOnes(byte[] bitmap) {
    for (int i = 0; i < sectorsPerBlock / 8; i++) {
      if (bitmap[i] != (byte) 0xff) {
        return false;
      }
    }
    return true;
  }
}
