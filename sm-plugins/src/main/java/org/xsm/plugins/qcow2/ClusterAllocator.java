package org.xsm.plugins.qcow2;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.xsm.plugins.store.ImageFile;

/**
 * Where a qcow2 file's new clusters go, and how clusters no longer used are given back: the
 * allocation half of {@link Qcow2Image}'s write ordering.
 *
 * <p><b>New clusters</b> are counted (refcount 1) in memory at once; the count reaches the file in
 * the first phase of the next flush, before any L2 entry that points to the cluster. They come
 * first from <b>free clusters</b>: clusters below the end of the file whose count is 0 and durable
 * ({@link #release} adds them once the lowered counts are forced; a writable open finds those of
 * earlier sessions by reading the counts, a refcount block at a time, as allocation reaches them).
 * Reuse keeps the ordering: the last reference to a free cluster was gone, durably, before its
 * count fell to 0, and a reused cluster is counted again before an L2 entry points to it; a crash
 * in between leaves it counted and unreferenced (a leak the next writable open releases) or not
 * counted and unreferenced (free). Every new cluster is written whole before it is referenced (data
 * runs, with copy on write of partial clusters; L2 tables; L1 tables), so what a reused cluster
 * held before never shows. Only when no free cluster is left do clusters come from past all
 * allocated space, which reads as zeros until written; a refcount block is placed there when the
 * next cluster has none, and a full refcount table grows ({@link #growRefcountTable}).
 *
 * <p><b>Freed clusters</b> ({@link #freeLater}) keep their count until {@link #release}, which the
 * image calls after the L2 tables and L1 entries that stopped referring to them are durable.
 *
 * <p>Not thread-safe: the image calls it under its own lock.
 */
final class ClusterAllocator {
  /** What allocation needs of the image's header. */
  interface Header {
    Qcow2Header get();

    /** Sets the dirty bit (once per session), forced, before the first metadata change. */
    void setDirtyBit() throws IOException;

    /** Writes the refcount table fields of {@code h} (bytes 48..59), forced; {@code h} in use. */
    void writeRefcountTableFields(Qcow2Header h) throws IOException;
  }

  /**
   * Counts one allocation looks at for free clusters, at most (a million: a few milliseconds, 32
   * refcount blocks of 64 KiB clusters, 64 GiB of file).
   */
  private static final long SCAN_CLUSTERS = 1 << 20;

  /** A run of new, counted clusters at {@code offset}. */
  record Run(long offset, int clusters) {}

  private final String where;
  private final Header header;
  private final Refcounts refcounts;
  private final L2Tables l2;
  private final int bits;
  private long nextFree;
  private final List<Long> pendingFree = new ArrayList<>();

  /** Known free clusters (count 0, durable) below {@link #scanned}. */
  private final TreeSet<Long> free = new TreeSet<>();

  /** Clusters below this were looked at for a count of 0 (or freed since, into {@link #free}). */
  private long scanned;

  ClusterAllocator(String where, Header header, Refcounts refcounts, L2Tables l2, ImageFile file)
      throws IOException {
    this.where = where;
    this.header = header;
    this.refcounts = refcounts;
    this.l2 = l2;
    this.bits = header.get().clusterBits();
    long cs = 1L << bits;
    this.nextFree = (file.size() + cs - 1) / cs * cs;
  }

  /**
   * Allocates up to {@code max} contiguous clusters, counted in memory: free ones if there are,
   * else past all allocated space (a new refcount block, when needed, placed first and written at
   * once).
   */
  Run allocate(int max) throws IOException {
    Run reused = takeFree(max);
    if (reused != null) {
      for (int k = 0; k < reused.clusters(); k++) {
        refcounts.set((reused.offset() >> bits) + k, 1);
      }
      return reused;
    }
    long first = ensureBlockAt();
    int n = 0;
    while (n < max) {
      long c = (first >> bits) + n;
      if (!refcounts.hasBlockFor(c)) {
        break;
      }
      refcounts.set(c, 1);
      n++;
    }
    nextFree = first + ((long) n << bits);
    l2.fileEnd(nextFree);
    return new Run(first, n);
  }

  /**
   * The first free clusters, as many following each other as there are up to max; or null. While
   * none is known, up to {@link #SCAN_CLUSTERS} more counts are looked at, so that the first
   * allocations of a session on a large image do not wait for all its counts to be read (until the
   * scan reaches them, free clusters further on are not used).
   */
  private Run takeFree(int max) throws IOException {
    long end = nextFree >> bits;
    long limit = scanned + SCAN_CLUSTERS;
    while (free.isEmpty() && scanned < end && scanned < limit) {
      scanBlock(end);
    }
    Long first = free.pollFirst();
    if (first == null) {
      return null;
    }
    int n = 1;
    while (n < max && free.remove(first + n)) {
      n++;
    }
    return new Run(first << bits, n);
  }

  /**
   * Looks at the counts from {@link #scanned} to the end of its refcount block (or {@code end}).
   */
  private void scanBlock(long end) throws IOException {
    long cpb = refcounts.clustersPerBlock();
    long to = Math.min(end, (scanned / cpb + 1) * cpb);
    if (refcounts.hasBlockFor(scanned)) {
      for (long c = scanned; c < to; c++) {
        if (refcounts.get(c) == 0) {
          free.add(c);
        }
      }
    }
    scanned = to;
  }

  /** Makes sure the cluster at nextFree has a refcount block (placing one there if not). */
  private long ensureBlockAt() throws IOException {
    while (true) {
      long c = nextFree >> bits;
      if (refcounts.hasBlockFor(c)) {
        return nextFree;
      }
      long r = c / refcounts.clustersPerBlock();
      header.setDirtyBit();
      if (r >= refcounts.tableLength()) {
        growRefcountTable(r);
        continue;
      }
      refcounts.addBlock((int) r, nextFree);
      nextFree += 1L << bits;
      l2.fileEnd(nextFree);
    }
  }

  /**
   * Replaces a full refcount table by a larger one at the end of the file, as qemu does: the new
   * blocks and table are written and forced ({@link Refcounts#writeGrownTable}), then the header's
   * two table fields (bytes 48..59, one write within the first sector) point to them, forced; the
   * old table's clusters are freed by the next flush. A crash before the header write leaves unused
   * clusters past the old end; after it, the old table leaked until then (the dirty bit is set).
   */
  private void growRefcountTable(long neededIndex) throws IOException {
    if (neededIndex >= Integer.MAX_VALUE) {
      throw Qcow2Header.bad(where, "file would grow past what a refcount table can describe");
    }
    Refcounts.Grown g = refcounts.writeGrownTable(nextFree, (int) neededIndex + 1);
    Qcow2Header old = header.get();
    header.writeRefcountTableFields(old.withRefcountTable(g.tableOffset(), g.tableClusters()));
    refcounts.useTable(g);
    freeLater(old.refcountTableOffset() >> bits, old.refcountTableClusters());
    nextFree = g.end();
    l2.fileEnd(nextFree);
  }

  /** Clusters {@code first..first+count-1} lose a reference at the next flush. */
  void freeLater(long first, int count) {
    for (int k = 0; k < count; k++) {
      pendingFree.add(first + k);
    }
  }

  /**
   * The host clusters of L2 entry {@code old} lose its reference, unless {@code replacement} keeps
   * it.
   */
  void releaseEntryLater(long old, long replacement) {
    if (Entries.isCompressed(old)) {
      long start = Entries.compressedOffset(old, bits);
      long end = start + Entries.compressedBytes(old, bits) - 1;
      for (long c = start >> bits; c <= end >> bits; c++) {
        pendingFree.add(c);
      }
    } else if (Entries.hostOffset(old) != 0
        && Entries.hostOffset(old) != Entries.hostOffset(replacement)) {
      pendingFree.add(Entries.hostOffset(old) >> bits);
    }
  }

  boolean hasPendingFrees() {
    return !pendingFree.isEmpty();
  }

  /**
   * The last flush step, once nothing durable refers to the freed clusters any more: their counts
   * are lowered, written and forced; those now at 0 may be reused.
   */
  void release(ImageFile file) throws IOException {
    if (pendingFree.isEmpty()) {
      return;
    }
    List<Long> zeroed = new ArrayList<>();
    for (long c : pendingFree) {
      long n = refcounts.get(c);
      if (n > 0) {
        refcounts.set(c, n - 1);
        if (n == 1) {
          zeroed.add(c);
        }
      }
    }
    pendingFree.clear();
    refcounts.writeDirty();
    file.force();
    for (long c : zeroed) {
      // Past the scan, the scan finds it; below it, it is known now.
      if (c < scanned && refcounts.get(c) == 0) {
        free.add(c);
      }
    }
  }
}
