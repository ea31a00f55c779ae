package org.xsm.plugins.filesr;

import java.util.BitSet;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sectors written to a VDI while the collector copies its leaf into the parent (live
 * leaf-coalesce): a sector bitmap per 2 MiB block, filled by the VDI's device after each write
 * lands, drained by the collector before each round. Marking after the write is what makes the
 * rounds exact: a write marked before a drain landed before it, so the round that follows copies
 * its data; a write marked after a drain is copied by the next round.
 *
 * <p>{@link #disturb()} makes the attempt void (the VDI's chain was reopened: a snapshot, an
 * activation, a deactivation); the collector then gives the leaf up until a later pass.
 *
 * <p>Thread-safety: all methods may be called from any thread.
 */
final class LeafWriteTracker {
  static final int SECTOR = 512;

  private final int blockSizeBytes;
  private Map<Integer, BitSet> dirty = new TreeMap<>();
  private long dirtySectors;
  private volatile boolean disturbed;

  LeafWriteTracker(int blockSizeBytes) {
    this.blockSizeBytes = blockSizeBytes;
  }

  /** Records a write that has landed (called by the device, after the write). */
  synchronized void mark(long offsetBytes, int lengthBytes) {
    long first = offsetBytes / SECTOR;
    long end = (offsetBytes + lengthBytes + SECTOR - 1) / SECTOR;
    int perBlock = blockSizeBytes / SECTOR;
    for (long s = first; s < end; ) {
      int block = (int) (s / perBlock);
      int from = (int) (s % perBlock);
      int to = (int) Math.min(perBlock, from + (end - s));
      BitSet b = dirty.computeIfAbsent(block, k -> new BitSet(perBlock));
      int before = b.cardinality();
      b.set(from, to);
      dirtySectors += b.cardinality() - before;
      s += to - from;
    }
  }

  /** Takes the sectors written since the last drain (block number to sector bitmap). */
  synchronized Map<Integer, BitSet> drain() {
    Map<Integer, BitSet> d = dirty;
    dirty = new TreeMap<>();
    dirtySectors = 0;
    return d;
  }

  /** Bytes written (distinct sectors) since the last drain. */
  synchronized long pendingBytes() {
    return dirtySectors * SECTOR;
  }

  void disturb() {
    disturbed = true;
  }

  boolean disturbed() {
    return disturbed;
  }

  /** The bytes a drained map names. */
  static long bytesOf(Map<Integer, BitSet> drained) {
    long n = 0;
    for (BitSet b : drained.values()) {
      n += b.cardinality();
    }
    return n * SECTOR;
  }
}
