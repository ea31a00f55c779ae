package org.xsm.plugins.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import org.xsm.plugins.store.FileRead;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.LayeredChain;
import org.xsm.plugins.store.ParallelReads;

/**
 * A qcow2 image and its backing files, read and written as one disk. A read is cut into extents,
 * each served by the first layer that holds its clusters (or zeros), and consecutive extents of the
 * same layer whose host clusters follow each other are merged into one read of the file. Writes go
 * to the leaf: a cluster it holds is written in place; a run of clusters it does not hold gets new
 * contiguous clusters, filled with the disk's current content where the write does not cover them
 * (copy on write), in one write of the file.
 *
 * <p>Thread-safety: reads may run concurrently with each other and with one write; writes are
 * serialized. A read and a write of the same bytes at the same time see old or new data.
 */
public final class Qcow2Chain extends LayeredChain<Qcow2Image> {
  /** Longest chain the engine opens. */
  public static final int MAX_DEPTH = LayeredChain.MAX_DEPTH;

  /** Largest run written or read with one call. */
  private static final int MAX_RUN_BYTES = 8 << 20;

  private final Object writeLock = new Object();

  private Qcow2Chain(List<Qcow2Image> layers) {
    super(layers);
  }

  /**
   * Opens {@code leaf} (writable if asked) and its backing files (read-only), checking each link:
   * the file exists, there is no cycle, and where both carry the xsm extension, the backing file's
   * UUID is the one the child records.
   */
  public static Qcow2Chain open(ImageStore store, String leaf, boolean writable)
      throws IOException {
    return new Qcow2Chain(
        openLayers(store, leaf, writable, new java.util.HashMap<>(), new Qcow2Links(store)));
  }

  /** How qcow2 layers link: by backing file name and, with xsm's extension, UUID. */
  private record Qcow2Links(ImageStore store) implements Links<Qcow2Image> {
    @Override
    public Qcow2Image open(String name, boolean writable) throws IOException {
      return Qcow2Image.open(store, name, writable);
    }

    @Override
    public Optional<String> parentName(Qcow2Image child) {
      return child.backingFileName();
    }

    @Override
    public void check(Qcow2Image child, Qcow2Image parent) throws IOException {
      checkLink(child, parent);
    }

    @Override
    public IOException badChain(String leaf, String what) {
      return Qcow2Header.bad(leaf, "backing chain " + what);
    }

    @Override
    public IOException broken(Qcow2Image child, String what) {
      return Qcow2Header.bad(child.where(), what);
    }

    @Override
    public String parentWord() {
      return "backing file";
    }
  }

  /**
   * Opens {@code name} alone, read-only, without its backing file: clusters it does not hold read
   * as zeros. For an image whose backing file is elsewhere (an uploaded incremental image), read
   * with {@link #allocatedClusters()} to take only what it holds.
   */
  public static Qcow2Chain openWithoutBacking(ImageStore store, String name) throws IOException {
    return openWithoutBacking(store, name, false);
  }

  /**
   * {@link #openWithoutBacking(ImageStore, String)}, writable if asked: for building an image over
   * a backing file its receiver holds (writes of whole clusters only then make sense).
   */
  public static Qcow2Chain openWithoutBacking(ImageStore store, String name, boolean writable)
      throws IOException {
    return new Qcow2Chain(List.of(Qcow2Image.open(store, name, writable)));
  }

  private static void checkLink(Qcow2Image child, Qcow2Image parent) throws Qcow2FormatException {
    Optional<XsmExtension> c = child.header().xsm();
    Optional<XsmExtension> p = parent.header().xsm();
    if (c.isPresent()
        && p.isPresent()
        && !c.get().parentUuid().equals(XsmExtension.NIL)
        && !c.get().parentUuid().equals(p.get().uuid())) {
      throw Qcow2Header.bad(
          child.where(),
          "backing UUID "
              + c.get().parentUuid()
              + " does not match "
              + parent.where()
              + " (UUID "
              + p.get().uuid()
              + ")");
    }
  }

  @Override
  public long virtualSizeBytes() {
    return leaf().virtualSizeBytes();
  }

  /** Where one extent of the disk is: {@code layer} -1 for zeros. */
  private record Extent(int layer, long host, long entry, int inCluster, int length) {
    boolean isZero() {
      return layer < 0;
    }

    boolean isCompressed() {
      return entry != 0 && Entries.isCompressed(entry);
    }

    /** Whether {@code next} continues this extent in the same place. */
    boolean continuedBy(Extent next) {
      if (isZero() || next.isZero()) {
        return isZero() && next.isZero();
      }
      return !isCompressed()
          && !next.isCompressed()
          && layer == next.layer
          && host + length == next.host;
    }
  }

  private Extent resolve(long off, long max) throws IOException {
    long len = max;
    for (int i = 0; i < layers().size(); i++) {
      Qcow2Image l = layers().get(i);
      long size = l.virtualSizeBytes();
      if (off >= size) {
        break;
      }
      len = Math.min(len, size - off);
      int cs = l.clusterSize();
      int in = (int) (off & (cs - 1));
      len = Math.min(len, cs - in);
      long e = l.entry(off >> l.clusterBits());
      if (Entries.isUnallocated(e)) {
        continue;
      }
      if (Entries.isZero(e)) {
        return new Extent(-1, 0, 0, 0, (int) len);
      }
      if (Entries.isCompressed(e)) {
        return new Extent(i, 0, e, in, (int) len);
      }
      return new Extent(i, Entries.hostOffset(e) + in, e, in, (int) len);
    }
    return new Extent(-1, 0, 0, 0, (int) Math.min(len, max));
  }

  /** Reads {@code dst.remaining()} bytes of the disk at {@code offset}. */
  @Override
  public void read(ByteBuffer dst, long offset) throws IOException {
    checkRange(offset, dst.remaining());
    readAt(dst, offset, readingAhead(offset, dst.remaining()));
  }

  /**
   * Resolves the extents first, merging those that continue each other, then reads them through
   * {@link ParallelReads}: in parallel when they come from several files and are large enough.
   */
  private void readAt(ByteBuffer dst, long offset, boolean mayParallel) throws IOException {
    int total = dst.remaining();
    long[] layersSeen = new long[1];
    List<ParallelReads.Piece> reads = plan(offset, total, layersSeen);
    ParallelReads.run(
        reads,
        dst.slice(),
        mayParallel
            && Long.bitCount(layersSeen[0]) > 1
            && total >= ParallelReads.PARALLEL_MIN_BYTES);
    dst.position(dst.position() + total);
  }

  @Override
  protected List<FileRead> planReads(long offset, int length) throws IOException {
    List<FileRead> reads = new ArrayList<>();
    walk(
        offset,
        length,
        (x, pos, runLen) -> {
          if (x.isZero()) {
            return;
          }
          Qcow2Image l = layers().get(x.layer());
          if (x.isCompressed()) {
            int bits = l.clusterBits();
            reads.add(
                new FileRead(
                    x.layer(),
                    Entries.compressedOffset(x.entry(), bits),
                    Entries.compressedBytes(x.entry(), bits),
                    l::readData));
          } else {
            reads.add(new FileRead(x.layer(), x.host(), runLen, l::readData));
          }
        });
    return reads;
  }

  /** The reads of {@code total} bytes at {@code offset}; {@code layersSeen[0]}: a bit per layer. */
  private List<ParallelReads.Piece> plan(long offset, int total, long[] layersSeen)
      throws IOException {
    List<ParallelReads.Piece> reads = new ArrayList<>();
    walk(
        offset,
        total,
        (x, pos, runLen) -> {
          if (x.isZero()) {
            reads.add(new ParallelReads.Piece(LayeredChain::fillZeros, pos, runLen, true));
          } else {
            Qcow2Image l = layers().get(x.layer());
            layersSeen[0] |= 1L << Math.min(x.layer(), 63);
            ParallelReads.Source from =
                x.isCompressed()
                    ? part -> l.readCompressed(x.entry(), x.inCluster(), part)
                    : part -> readLayer(x.layer(), part, x.host(), l::readData);
            reads.add(new ParallelReads.Piece(from, pos, runLen, false));
          }
        });
    return reads;
  }

  /** Receives the runs of a read: extent {@code x} continued for {@code runLen} bytes at pos. */
  @FunctionalInterface
  private interface RunSink {
    void run(Extent x, int pos, int runLen);
  }

  /** Resolves {@code total} bytes at {@code offset} into runs, merging extents that continue. */
  private void walk(long offset, int total, RunSink sink) throws IOException {
    long off = offset;
    int pos = 0;
    Extent e = null;
    while (pos < total) {
      if (e == null) {
        e = resolve(off, total - pos);
      }
      long runLen = e.length();
      Extent next = null;
      while (runLen < total - pos && runLen < MAX_RUN_BYTES) {
        next = resolve(off + runLen, total - pos - runLen);
        Extent tail =
            new Extent(e.layer(), e.host() + runLen - e.length(), e.entry(), 0, e.length());
        if (!tail.continuedBy(next)) {
          break;
        }
        runLen += next.length();
        next = null;
      }
      sink.run(e, pos, (int) runLen);
      pos += (int) runLen;
      off += runLen;
      e = next;
    }
  }

  /** Writes {@code src.remaining()} bytes at {@code offset} into the leaf. */
  @Override
  public void write(ByteBuffer src, long offset) throws IOException {
    checkRange(offset, src.remaining());
    Qcow2Image leaf = leaf();
    if (!leaf.isWritable()) {
      throw Qcow2Header.bad(leaf.where(), "is open read-only");
    }
    try {
      synchronized (writeLock) {
        new LeafWrites(leaf, this::fillOld, MAX_RUN_BYTES).write(src, offset);
      }
    } finally {
      leafWritten();
    }
  }

  /** Fills a cluster buffer with the disk's current content there (zeros past the end). */
  private void fillOld(ByteBuffer cluster, long at) throws IOException {
    long size = virtualSizeBytes();
    int inside = (int) Math.max(0, Math.min(cluster.remaining(), size - at));
    readAt(cluster.slice(0, inside), at, false);
  }

  /**
   * Makes {@code length} bytes at {@code offset} read as zeros: whole clusters become zero (or,
   * with no backing file, unallocated) clusters, the edges are written.
   */
  public void zero(long offset, long length) throws IOException {
    checkRange(offset, 0);
    if (length < 0 || offset > virtualSizeBytes() - length) {
      throw new IndexOutOfBoundsException(
          "range " + offset + "+" + length + " is outside the disk");
    }
    Qcow2Image leaf = leaf();
    int cs = leaf.clusterSize();
    long end = offset + length;
    long firstWhole = (offset + cs - 1) / cs * cs;
    long lastWhole = end / cs * cs;
    if (firstWhole >= lastWhole) {
      writeZeros(offset, length);
      return;
    }
    writeZeros(offset, firstWhole - offset);
    try {
      synchronized (writeLock) {
        for (long p = firstWhole; p < lastWhole; p += cs) {
          leaf.zero(p / cs);
        }
      }
    } finally {
      leafWritten();
    }
    writeZeros(lastWhole, end - lastWhole);
  }

  private void writeZeros(long offset, long length) throws IOException {
    if (length > 0) {
      write(ByteBuffer.allocate((int) length), offset);
    }
  }

  /** Clusters of the leaf's size held by any layer (data or zeros): the disk's allocation map. */
  public BitSet allocatedClusters() throws IOException {
    int leafBits = leaf().clusterBits();
    BitSet out = new BitSet();
    for (Qcow2Image l : layers()) {
      BitSet b = l.allocatedClusters();
      if (l.clusterBits() == leafBits) {
        out.or(b);
        continue;
      }
      for (int i = b.nextSetBit(0); i >= 0; i = b.nextSetBit(i + 1)) {
        long from = ((long) i << l.clusterBits()) >> leafBits;
        long to = ((((long) i + 1) << l.clusterBits()) - 1) >> leafBits;
        out.set((int) from, (int) to + 1);
      }
    }
    return out;
  }

  /** Makes all writes durable (see {@link Qcow2Image#flush}). */
  @Override
  public void flush() throws IOException {
    leaf().flush();
  }
}
