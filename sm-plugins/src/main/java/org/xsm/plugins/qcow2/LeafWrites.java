package org.xsm.plugins.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One write of guest data into a chain's leaf: runs of clusters the leaf holds (copied flag set)
 * are written in place, in runs as long as their host clusters follow each other; other runs get
 * new clusters ({@link Qcow2Image#allocate}), the partial clusters at their ends completed with the
 * disk's current content (copy on write), and written in one write before they are mapped. The
 * caller serializes writes.
 */
final class LeafWrites {
  /** Fills a cluster-sized buffer with the disk's content at guest offset {@code at}. */
  @FunctionalInterface
  interface OldContent {
    void fill(ByteBuffer cluster, long at) throws IOException;
  }

  private final Qcow2Image leaf;
  private final OldContent old;
  private final int maxRunBytes;

  LeafWrites(Qcow2Image leaf, OldContent old, int maxRunBytes) {
    this.leaf = leaf;
    this.old = old;
    this.maxRunBytes = maxRunBytes;
  }

  /** Writes {@code src.remaining()} bytes at guest {@code offset} into the leaf. */
  void write(ByteBuffer src, long offset) throws IOException {
    int bits = leaf.clusterBits();
    int cs = leaf.clusterSize();
    long off = offset;
    while (src.hasRemaining()) {
      long c = off >> bits;
      int in = (int) (off & (cs - 1));
      long e = leaf.entry(c);
      if (Entries.isData(e) && (e & Entries.COPIED) != 0) {
        int len = Math.min(cs - in, src.remaining());
        long host = Entries.hostOffset(e);
        while (len < src.remaining() && len < maxRunBytes) {
          long ne = leaf.entry(c + ((in + len) >> bits));
          if (!Entries.isData(ne)
              || (ne & Entries.COPIED) == 0
              || Entries.hostOffset(ne) != host + in + len) {
            break;
          }
          len += Math.min(cs, src.remaining() - len);
        }
        leaf.writeData(src.slice().limit(len), host + in);
        src.position(src.position() + len);
        off += len;
      } else {
        int len = writeNew(src, off);
        off += len;
      }
    }
  }

  /**
   * Writes from {@code off} into new clusters (a run the leaf does not hold); returns bytes done.
   */
  private int writeNew(ByteBuffer src, long off) throws IOException {
    int bits = leaf.clusterBits();
    int cs = leaf.clusterSize();
    long c = off >> bits;
    int in = (int) (off & (cs - 1));
    int maxClusters =
        (int) Math.min(maxRunBytes / cs, ((long) in + src.remaining() + cs - 1) >> bits);
    int k = 1;
    while (k < maxClusters) {
      long ne = leaf.entry(c + k);
      if (Entries.isData(ne) && (ne & Entries.COPIED) != 0) {
        break;
      }
      k++;
    }
    ClusterAllocator.Run run = leaf.allocate(k);
    k = run.clusters();
    int len = (int) Math.min(src.remaining(), ((long) k << bits) - in);
    if (in == 0 && len == (k << bits)) {
      // Whole clusters: written straight from the caller's buffer, no copy.
      leaf.writeData(src.slice().limit(len), run.offset());
      src.position(src.position() + len);
      mapRun(c, run.offset(), k);
      return len;
    }
    ByteBuffer buf = ByteBuffer.allocate(k << bits);
    long runStart = c << bits;
    if (in != 0 || len < cs) {
      old.fill(buf.slice(0, cs), runStart);
    }
    int tailEnd = in + len;
    if (k > 1 && tailEnd < (k << bits)) {
      int lastStart = (k - 1) << bits;
      old.fill(buf.slice(lastStart, cs), runStart + lastStart);
    }
    buf.put(in, src.slice().limit(len), 0, len);
    src.position(src.position() + len);
    leaf.writeData(buf, run.offset());
    mapRun(c, run.offset(), k);
    return len;
  }

  private void mapRun(long cluster, long host, int clusters) throws IOException {
    int bits = leaf.clusterBits();
    for (int j = 0; j < clusters; j++) {
      leaf.map(cluster + j, host + ((long) j << bits));
    }
  }
}
