package org.xsm.plugins.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.plugins.store.ImageFile;

/**
 * The refcount table and blocks of one qcow2 file: the table is held in memory; blocks are read on
 * demand and kept (clean ones in a bounded LRU, changed ones until written).
 *
 * <p>Write ordering (see {@link Qcow2Image}): a changed count reaches the file only through {@link
 * #writeDirty}, which the image calls in the first phase of a flush (before L2 tables that refer to
 * new clusters) or after the L2 tables that stopped referring to freed clusters are durable. A new
 * refcount block is written and forced before the table entry that points to it ({@link
 * #addBlock}), so a crash never leaves the table pointing to a block that is not there. A larger
 * table is written with its new blocks and forced before the header points to it ({@link
 * #writeGrownTable}).
 *
 * <p>Not thread-safe: the image calls it under its own lock.
 */
final class Refcounts {
  private static final int MAX_CLEAN_BLOCKS = 64;

  private final ImageFile file;
  private final String where;
  private final int clusterBits;
  private final int refcountOrder;
  private long tableOffset;
  private long[] table;
  private final LinkedHashMap<Integer, byte[]> blocks = new LinkedHashMap<>(16, 0.75f, true);
  private final Map<Integer, byte[]> dirty = new LinkedHashMap<>();

  private Refcounts(ImageFile file, String where, Qcow2Header h, long[] table) {
    this.file = file;
    this.where = where;
    this.clusterBits = h.clusterBits();
    this.refcountOrder = h.refcountOrder();
    this.tableOffset = h.refcountTableOffset();
    this.table = table;
  }

  static Refcounts load(ImageFile file, String where, Qcow2Header h, long fileSize)
      throws IOException {
    int entries = (int) (((long) h.refcountTableClusters() << h.clusterBits()) / 8);
    ByteBuffer b = ByteBuffer.allocate(entries * 8);
    file.readFully(b, h.refcountTableOffset());
    long[] table = new long[entries];
    long cs = h.clusterSize();
    for (int i = 0; i < entries; i++) {
      long e = b.getLong(i * 8);
      if ((e & (cs - 1)) != 0 || e < 0) {
        throw Qcow2Header.bad(
            where,
            "refcount table entry "
                + i
                + " (0x"
                + Long.toHexString(e)
                + ") is not a cluster offset");
      }
      if (e + cs > fileSize && e != 0) {
        throw Qcow2Header.bad(
            where,
            "refcount block "
                + i
                + " at 0x"
                + Long.toHexString(e)
                + " lies past the file end "
                + fileSize);
      }
      table[i] = e;
    }
    return new Refcounts(file, where, h, table);
  }

  /** Clusters whose counts one refcount block holds. */
  long clustersPerBlock() {
    return (8L << clusterBits) >> refcountOrder;
  }

  long tableEntry(int i) {
    return table[i];
  }

  int tableLength() {
    return table.length;
  }

  boolean hasBlockFor(long cluster) {
    int r = (int) (cluster / clustersPerBlock());
    return r < table.length && table[r] != 0;
  }

  long get(long cluster) throws IOException {
    int r = (int) (cluster / clustersPerBlock());
    if (r >= table.length || table[r] == 0) {
      return 0;
    }
    return read(block(r), (int) (cluster % clustersPerBlock()));
  }

  void set(long cluster, long count) throws IOException {
    int r = (int) (cluster / clustersPerBlock());
    if (r >= table.length || table[r] == 0) {
      throw new IllegalStateException("no refcount block for cluster " + cluster + " in " + where);
    }
    byte[] blk = block(r);
    write(blk, (int) (cluster % clustersPerBlock()), count);
    dirty.put(r, blk);
  }

  /**
   * Makes a new refcount block at {@code blockOffset} for table entry {@code r}, counting itself if
   * it covers its own cluster: written and forced, then the table entry written and forced.
   */
  void addBlock(int r, long blockOffset) throws IOException {
    byte[] blk = new byte[1 << clusterBits];
    long self = blockOffset >> clusterBits;
    if (self / clustersPerBlock() == r) {
      write(blk, (int) (self % clustersPerBlock()), 1);
    }
    file.writeFully(ByteBuffer.wrap(blk), blockOffset);
    file.force();
    ByteBuffer e = ByteBuffer.allocate(8).putLong(0, blockOffset);
    file.writeFully(e, tableOffset + r * 8L);
    file.force();
    table[r] = blockOffset;
    blocks.put(r, blk);
  }

  /** A larger table written to the file, not yet in use: the header is to point to it. */
  record Grown(
      long tableOffset, int tableClusters, long end, long[] table, Map<Integer, byte[]> blocks) {}

  /**
   * Writes a larger table of at least {@code minEntries} entries at cluster-aligned {@code at}
   * (past all the clusters the table covers, so nothing there is counted or referenced), preceded
   * by the new refcount blocks that cover the new clusters and count them (the blocks and the
   * table), and forces them. The table holds the old entries, then the new blocks, and covers the
   * cluster at {@link Grown#end} too. Nothing changes in memory until {@link #useTable}: a crash
   * before the header points to the new table leaves the file as it was, with unused clusters past
   * its old end.
   */
  Grown writeGrownTable(long at, int minEntries) throws IOException {
    long cpb = clustersPerBlock();
    int cs = 1 << clusterBits;
    int perCluster = cs / 8;
    long first = at >> clusterBits;
    if (first / cpb < table.length) {
      throw new IllegalStateException("refcount table growth at a covered cluster in " + where);
    }
    long entries = Math.max(minEntries, 2L * table.length);
    int blockCount = 0;
    long end;
    while (true) {
      entries = (entries + perCluster - 1) / perCluster * perCluster;
      end = first + blockCount + entries / perCluster;
      if (end / cpb >= entries) {
        entries = end / cpb + 1;
        continue;
      }
      int needed = (int) ((end - 1) / cpb - first / cpb + 1);
      if (needed == blockCount) {
        break;
      }
      blockCount = needed;
    }
    if (entries > (1L << 24) * perCluster) {
      throw Qcow2Header.bad(where, "refcount table would need more than 2^24 clusters");
    }
    long[] grown = java.util.Arrays.copyOf(table, (int) entries);
    Map<Integer, byte[]> made = new LinkedHashMap<>();
    ByteBuffer area = ByteBuffer.allocate((int) ((end - first) << clusterBits));
    for (int k = 0; k < blockCount; k++) {
      int r = (int) (first / cpb) + k;
      byte[] blk = new byte[cs];
      for (long c = Math.max(first, r * cpb); c < Math.min(end, (r + 1) * cpb); c++) {
        write(blk, (int) (c % cpb), 1);
      }
      grown[r] = (first + k) << clusterBits;
      made.put(r, blk);
      area.put(k << clusterBits, blk);
    }
    long tableAt = (first + blockCount) << clusterBits;
    ByteBuffer t = area.slice(blockCount << clusterBits, (int) entries * 8);
    t.asLongBuffer().put(grown);
    file.writeFully(area, at);
    file.force();
    return new Grown(tableAt, (int) (entries / perCluster), end << clusterBits, grown, made);
  }

  /** Switches to a grown table once the header points to it. */
  void useTable(Grown g) {
    table = g.table();
    tableOffset = g.tableOffset();
    blocks.putAll(g.blocks());
    trim();
  }

  boolean hasChanges() {
    return !dirty.isEmpty();
  }

  /** Writes every changed block (not forced); returns whether there was any. */
  boolean writeDirty() throws IOException {
    if (dirty.isEmpty()) {
      return false;
    }
    List<Integer> written = new ArrayList<>();
    for (Map.Entry<Integer, byte[]> e : dirty.entrySet()) {
      file.writeFully(ByteBuffer.wrap(e.getValue()), table[e.getKey()]);
      written.add(e.getKey());
    }
    written.forEach(dirty::remove);
    trim();
    return true;
  }

  private byte[] block(int r) throws IOException {
    byte[] blk = dirty.get(r);
    if (blk == null) {
      blk = blocks.get(r);
    }
    if (blk == null) {
      blk = new byte[1 << clusterBits];
      file.readFully(ByteBuffer.wrap(blk), table[r]);
      blocks.put(r, blk);
      trim();
    }
    return blk;
  }

  private void trim() {
    var it = blocks.entrySet().iterator();
    while (blocks.size() > MAX_CLEAN_BLOCKS && it.hasNext()) {
      if (!dirty.containsKey(it.next().getKey())) {
        it.remove();
      }
    }
  }

  private long read(byte[] blk, int i) {
    int bits = 1 << refcountOrder;
    if (bits >= 8) {
      int bytes = bits / 8;
      long v = 0;
      for (int k = 0; k < bytes; k++) {
        v = (v << 8) | (blk[i * bytes + k] & 0xff);
      }
      return v;
    }
    int perByte = 8 / bits;
    int shift = (i % perByte) * bits;
    return (blk[i / perByte] >> shift) & ((1 << bits) - 1);
  }

  private void write(byte[] blk, int i, long v) {
    int bits = 1 << refcountOrder;
    if (bits < 64 && (v >>> bits) != 0) {
      throw new IllegalStateException(
          "refcount " + v + " does not fit in " + bits + " bits in " + where);
    }
    if (bits >= 8) {
      int bytes = bits / 8;
      for (int k = bytes - 1; k >= 0; k--) {
        blk[i * bytes + k] = (byte) v;
        v >>>= 8;
      }
      return;
    }
    int perByte = 8 / bits;
    int shift = (i % perByte) * bits;
    int mask = ((1 << bits) - 1) << shift;
    blk[i / perByte] = (byte) ((blk[i / perByte] & ~mask) | ((int) v << shift));
  }
}
