package org.xsm.plugins.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.xsm.plugins.store.ImageFile;

/**
 * The L1 table (in memory) and the L2 tables (read on demand; clean ones in a bounded LRU, changed
 * ones kept until written) of one qcow2 file. Entries are the raw 64-bit values of the format;
 * {@link Entries} interprets them.
 *
 * <p>Write ordering: {@link #writeL2} writes changed L2 tables (in place, or into clusters newly
 * allocated and counted), {@link #writeL1} then writes the changed L1 entries; the image forces
 * between the two, so an L1 entry never points to an L2 table that is not on disk.
 *
 * <p>Not thread-safe: the image calls it under its own lock.
 */
final class L2Tables {
  private static final int MAX_CLEAN_TABLES = 128;

  private final ImageFile file;
  private final String where;
  private final int clusterBits;
  private long[] l1;
  private long l1Offset;
  private final BitSet dirtyL1 = new BitSet();
  private final LinkedHashMap<Integer, long[]> clean = new LinkedHashMap<>(16, 0.75f, true);
  private final Map<Integer, long[]> dirty = new HashMap<>();

  /** Where allocated space ends: entries pointing past it are damage. */
  private long fileEnd;

  private L2Tables(
      ImageFile file, String where, int clusterBits, long[] l1, long l1Offset, long fileSize) {
    this.file = file;
    this.where = where;
    this.clusterBits = clusterBits;
    this.l1 = l1;
    this.l1Offset = l1Offset;
    this.fileEnd = fileSize;
  }

  static L2Tables load(ImageFile file, String where, Qcow2Header h, long fileSize)
      throws IOException {
    long[] l1 = readTable(file, h.l1TableOffset(), h.l1Size());
    long cs = h.clusterSize();
    for (int i = 0; i < l1.length; i++) {
      long e = l1[i];
      if ((e & ~(Entries.OFFSET_MASK | Entries.COPIED)) != 0) {
        throw Qcow2Header.bad(
            where, "L1 entry " + i + " (0x" + Long.toHexString(e) + ") has reserved bits set");
      }
      long off = e & Entries.OFFSET_MASK;
      if ((off & (cs - 1)) != 0) {
        throw Qcow2Header.bad(
            where, "L1 entry " + i + " points to unaligned L2 table 0x" + Long.toHexString(off));
      }
      if (off != 0 && off + cs > fileSize) {
        throw Qcow2Header.bad(
            where,
            "L1 entry "
                + i
                + " points to L2 table 0x"
                + Long.toHexString(off)
                + " past the file end "
                + fileSize);
      }
    }
    return new L2Tables(file, where, h.clusterBits(), l1, h.l1TableOffset(), fileSize);
  }

  static long[] readTable(ImageFile file, long offset, int entries) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(entries * 8);
    file.readFully(b, offset);
    long[] t = new long[entries];
    b.flip().asLongBuffer().get(t);
    return t;
  }

  /** Raises the end of allocated space (the image allocated clusters past it). */
  void fileEnd(long end) {
    fileEnd = Math.max(fileEnd, end);
  }

  int l1Size() {
    return l1.length;
  }

  long l1Offset() {
    return l1Offset;
  }

  long l1Entry(int i) {
    return l1[i];
  }

  int entriesPerTable() {
    return 1 << (clusterBits - 3);
  }

  /** The L2 entry of guest cluster {@code cluster}: 0 when its L2 table does not exist. */
  long entry(long cluster) throws IOException {
    int i = (int) (cluster >>> (clusterBits - 3));
    if (i >= l1.length) {
      return 0;
    }
    long[] t = table(i);
    return t == null ? 0 : t[(int) (cluster & (entriesPerTable() - 1))];
  }

  /** Whether guest cluster {@code cluster} has an L2 table to hold its entry. */
  boolean hasTable(long cluster) {
    int i = (int) (cluster >>> (clusterBits - 3));
    return (l1[i] & Entries.OFFSET_MASK) != 0;
  }

  /** Points L1 entry {@code i} at a new, empty L2 table in a cluster already counted. */
  void addTable(int i, long offset) {
    long[] t = new long[entriesPerTable()];
    l1[i] = offset | Entries.COPIED;
    dirtyL1.set(i);
    dirty.put(i, t);
  }

  void setEntry(long cluster, long value) throws IOException {
    int i = (int) (cluster >>> (clusterBits - 3));
    long[] t = table(i);
    if (t == null) {
      throw new IllegalStateException("no L2 table for cluster " + cluster + " in " + where);
    }
    t[(int) (cluster & (entriesPerTable() - 1))] = value;
    dirty.put(i, t);
    clean.remove(i);
  }

  private long[] table(int i) throws IOException {
    long[] t = dirty.get(i);
    if (t != null) {
      return t;
    }
    t = clean.get(i);
    if (t != null) {
      return t;
    }
    long off = l1[i] & Entries.OFFSET_MASK;
    if (off == 0) {
      return null;
    }
    t = readTable(file, off, entriesPerTable());
    validate(i, off, t);
    clean.put(i, t);
    if (clean.size() > MAX_CLEAN_TABLES) {
      var it = clean.entrySet().iterator();
      it.next();
      it.remove();
    }
    return t;
  }

  /**
   * Checks a table just read. An entry past the end known so far is checked again against the
   * file's current size first: another writer (the collector coalescing into a backing file this
   * image has open read-only) may have grown the file since it was opened.
   */
  private void validate(int i, long off, long[] t) throws IOException {
    boolean refreshed = false;
    for (int k = 0; k < t.length; k++) {
      String problem = Entries.problem(t[k], clusterBits, fileEnd);
      if (problem != null && !refreshed) {
        refreshed = true;
        fileEnd(file.size());
        problem = Entries.problem(t[k], clusterBits, fileEnd);
      }
      if (problem != null) {
        throw Qcow2Header.bad(
            where,
            "L2 table " + i + " at 0x" + Long.toHexString(off) + " entry " + k + ": " + problem);
      }
    }
  }

  /** Guest clusters below {@code clusters} that have an entry (data, zero or compressed). */
  java.util.BitSet allocatedClusters(long clusters) throws IOException {
    java.util.BitSet out = new java.util.BitSet();
    int per = entriesPerTable();
    for (int i = 0; i < l1Size(); i++) {
      long[] t = peek(i);
      if (t == null) {
        continue;
      }
      for (int k = 0; k < per && (long) i * per + k < clusters; k++) {
        if (!Entries.isUnallocated(t[k])) {
          out.set(i * per + k);
        }
      }
    }
    return out;
  }

  /** Reads L2 table {@code i} without caching it (for scans), or null if it does not exist. */
  long[] peek(int i) throws IOException {
    long[] t = dirty.get(i);
    if (t == null) {
      t = clean.get(i);
    }
    if (t != null) {
      return t;
    }
    long off = l1[i] & Entries.OFFSET_MASK;
    return off == 0 ? null : readTable(file, off, entriesPerTable());
  }

  boolean hasChanges() {
    return !dirty.isEmpty() || !dirtyL1.isEmpty();
  }

  /** Writes the changed L2 tables (not forced). */
  boolean writeL2() throws IOException {
    if (dirty.isEmpty()) {
      return false;
    }
    for (Map.Entry<Integer, long[]> e : dirty.entrySet()) {
      ByteBuffer b = ByteBuffer.allocate(e.getValue().length * 8);
      b.asLongBuffer().put(e.getValue());
      file.writeFully(b, l1[e.getKey()] & Entries.OFFSET_MASK);
      clean.put(e.getKey(), e.getValue());
    }
    dirty.clear();
    return true;
  }

  /** Writes the changed L1 entries (not forced), as one range. */
  boolean writeL1() throws IOException {
    if (dirtyL1.isEmpty()) {
      return false;
    }
    int from = dirtyL1.nextSetBit(0);
    int to = dirtyL1.length();
    ByteBuffer b = ByteBuffer.allocate((to - from) * 8);
    for (int i = from; i < to; i++) {
      b.putLong(l1[i]);
    }
    b.flip();
    file.writeFully(b, l1Offset + from * 8L);
    dirtyL1.clear();
    return true;
  }

  /** Replaces the L1 table by a larger copy at {@code newOffset} (written by the caller). */
  long[] grownL1(int entries) {
    return java.util.Arrays.copyOf(l1, entries);
  }

  void useL1(long[] table, long offset) {
    l1 = table;
    l1Offset = offset;
  }
}
