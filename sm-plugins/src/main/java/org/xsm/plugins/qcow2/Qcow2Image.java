package org.xsm.plugins.qcow2;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * One open qcow2 file: its header, refcounts and cluster map. {@link Qcow2Chain} reads and writes
 * guest data through it.
 *
 * <p><b>Write ordering</b> (what makes a power cut at any point leave {@code qemu-img check}
 * without errors): guest data goes to clusters past the end of all allocated space, which are
 * counted (refcount 1) and mapped (L2 entry) in memory only. {@link #flush()} then writes, in this
 * order, each step forced before the next:
 *
 * <ol>
 *   <li>the header's dirty bit, once per session, before the first metadata change;
 *   <li>the changed refcount blocks (with the data written since the last flush);
 *   <li>the changed L2 tables (new tables live in clusters counted in step 2);
 *   <li>the changed L1 entries (pointing to tables written in step 3);
 *   <li>the lowered counts of clusters that step 3 stopped referring to.
 * </ol>
 *
 * A crash between the steps leaves clusters counted but unreferenced (leaks, which {@code qemu-img
 * check} reports as harmless), never a reference to an uncounted or unwritten cluster. The dirty
 * bit, cleared on a clean {@link #close()}, makes the next writable open (this engine's or qemu's)
 * find and release the leaks ({@link Qcow2Check#repair}). A new refcount block is written and
 * forced before the refcount table entry that points to it; a larger refcount table is written
 * before the header points to it ({@link #growRefcountTable}). Freed clusters are not reused (space
 * they held is reclaimed only by a copy of the image): not for crash safety, but because other
 * handles (a chain holding this file open read-only while the collector coalesces into it) cache L2
 * tables, and a stale entry pointing to a reused cluster would read another cluster's data.
 *
 * <p>Header changes (size, L1 table, hidden flag, backing file) rewrite the header area, which
 * stays within one 512-byte sector and is written by one write: it holds the old or the new state.
 *
 * <p>Thread-safety: metadata is guarded by this object's lock; guest data is read and written
 * outside it. {@link Qcow2Chain} serializes writes.
 */
public final class Qcow2Image implements Closeable {
  private static final int HEADER_SECTOR = 512;

  private final ImageStore store;
  private final ImageFile file;
  private final boolean writable;
  private final String where;
  private Qcow2Header header;
  private Refcounts refcounts;
  private L2Tables l2;
  private long nextFree;
  private final List<Long> pendingFree = new ArrayList<>();
  private boolean unforced;
  private boolean closed;

  private Qcow2Image(ImageStore store, ImageFile file, boolean writable) {
    this.store = store;
    this.file = file;
    this.writable = writable;
    this.where = store.describe(file.name());
  }

  /**
   * Opens and validates a qcow2 file. A writable open of an image whose dirty bit is set (an
   * earlier writer did not close it) releases the clusters that writer leaked first.
   *
   * @throws Qcow2FormatException naming the file and the first check that failed
   */
  public static Qcow2Image open(ImageStore store, String name, boolean writable)
      throws IOException {
    ImageFile f = store.open(name, writable);
    Qcow2Image img = new Qcow2Image(store, f, writable);
    try {
      img.load();
      return img;
    } catch (IOException | RuntimeException e) {
      f.close();
      throw e;
    }
  }

  private void load() throws IOException {
    long size = file.size();
    ByteBuffer first = ByteBuffer.allocate((int) Math.min(size, 112));
    file.readFully(first, 0);
    int clusterBits = first.capacity() >= 24 ? first.getInt(20) : 16;
    int headBytes = (int) Math.min(size, 1L << Math.max(9, Math.min(21, clusterBits)));
    ByteBuffer head = ByteBuffer.allocate(headBytes);
    file.readFully(head, 0);
    header = Qcow2Header.decode(head.array(), size, where);
    if (writable && header.nbSnapshots() > 0) {
      throw Qcow2Header.bad(
          where,
          "has " + header.nbSnapshots() + " internal snapshots; it can only be opened read-only");
    }
    if (writable && (header.incompatibleFeatures() & Qcow2Header.INCOMPAT_CORRUPT) != 0) {
      throw Qcow2Header.bad(where, "is marked corrupt; repair it with qemu-img check -r all first");
    }
    refcounts = Refcounts.load(file, where, header, size);
    l2 = L2Tables.load(file, where, header, size);
    nextFree = roundUp(size);
    if (writable && header.isDirty()) {
      Qcow2Check.repair(this);
    }
  }

  // ---- what the chain and the operations read -----------------------------------------------

  public synchronized Qcow2Header header() {
    return header;
  }

  public String name() {
    return file.name();
  }

  public String where() {
    return where;
  }

  public ImageStore store() {
    return store;
  }

  public boolean isWritable() {
    return writable;
  }

  public synchronized long virtualSizeBytes() {
    return header.sizeBytes();
  }

  public int clusterBits() {
    return header.clusterBits();
  }

  public int clusterSize() {
    return header.clusterSize();
  }

  public synchronized boolean isHidden() {
    return header.isHidden();
  }

  /** The backing file's name in the store: the base name of what the header records. */
  public synchronized Optional<String> backingFileName() {
    return header.backingFile().map(Qcow2Image::baseName);
  }

  static String baseName(String n) {
    int slash = Math.max(n.lastIndexOf('/'), n.lastIndexOf('\\'));
    return n.substring(slash + 1);
  }

  public long physicalSizeBytes() throws IOException {
    return file.size();
  }

  /** The raw L2 entry of guest cluster {@code cluster} (0: unallocated). */
  synchronized long entry(long cluster) throws IOException {
    return l2.entry(cluster);
  }

  /** Guest clusters this file holds (data, zero or compressed): what shadows its backing file. */
  public synchronized BitSet allocatedClusters() throws IOException {
    BitSet out = new BitSet();
    int per = l2.entriesPerTable();
    long clusters = ceilDiv(header.sizeBytes(), header.clusterSize());
    for (int i = 0; i < l2.l1Size(); i++) {
      long[] t = l2.peek(i);
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

  /**
   * Reads bytes this file itself holds (data, zero or compressed cluster) at guest {@code offset},
   * within one cluster; returns false, with {@code dst} untouched, for a cluster it does not hold.
   * For copies of one layer (a live coalesce of a leaf into its backing file).
   */
  public boolean readOwn(ByteBuffer dst, long offset) throws IOException {
    int cs = clusterSize();
    int in = (int) (offset & (cs - 1));
    if (in + dst.remaining() > cs) {
      throw new IllegalArgumentException(
          "read of " + dst.remaining() + " bytes at " + offset + " crosses a cluster");
    }
    long e = entry(offset >> clusterBits());
    if (Entries.isUnallocated(e)) {
      return false;
    }
    if (Entries.isZero(e)) {
      while (dst.hasRemaining()) {
        dst.put((byte) 0);
      }
    } else if (Entries.isCompressed(e)) {
      readCompressed(e, in, dst);
    } else {
      readData(dst, Entries.hostOffset(e) + in);
    }
    return true;
  }

  /** Reads guest data from host offset {@code host}; bytes past the file end read as zeros. */
  void readData(ByteBuffer dst, long host) throws IOException {
    long pos = host;
    while (dst.hasRemaining()) {
      int n = file.read(dst, pos);
      if (n < 0) {
        while (dst.hasRemaining()) {
          dst.put((byte) 0);
        }
        return;
      }
      pos += n;
    }
  }

  /** Inflates compressed cluster {@code entry} and puts bytes {@code from..} of it into dst. */
  void readCompressed(long entry, int from, ByteBuffer dst) throws IOException {
    int bits = header.clusterBits();
    ByteBuffer raw = ByteBuffer.allocate(Entries.compressedBytes(entry, bits));
    readData(raw, Entries.compressedOffset(entry, bits));
    byte[] cluster = new byte[header.clusterSize()];
    Inflater inf = new Inflater(true);
    try {
      inf.setInput(raw.array());
      int n = inf.inflate(cluster);
      if (n != cluster.length) {
        throw Qcow2Header.bad(
            where,
            "compressed cluster at 0x"
                + Long.toHexString(Entries.compressedOffset(entry, bits))
                + " inflates to "
                + n
                + " bytes");
      }
    } catch (DataFormatException e) {
      throw Qcow2Header.bad(
          where, "compressed cluster is not valid deflate data: " + e.getMessage());
    } finally {
      inf.end();
    }
    dst.put(cluster, from, dst.remaining());
  }

  // ---- what the chain writes -----------------------------------------------------------------

  /** A run of new, counted clusters at {@code offset}. */
  record Run(long offset, int clusters) {}

  /**
   * Allocates up to {@code max} clusters, contiguous, past all allocated space; counted in memory
   * (written by the next flush). A new refcount block, when needed, is placed first and written at
   * once.
   */
  synchronized Run allocate(int max) throws IOException {
    checkWritable();
    long cs = header.clusterSize();
    long first = ensureBlockAt();
    int n = 0;
    while (n < max) {
      long c = (first + n * cs) >> header.clusterBits();
      if (!refcounts.hasBlockFor(c)) {
        break;
      }
      refcounts.set(c, 1);
      n++;
    }
    nextFree = first + n * cs;
    l2.fileEnd(nextFree);
    return new Run(first, n);
  }

  /** Makes sure the cluster at nextFree has a refcount block (placing one there if not). */
  private long ensureBlockAt() throws IOException {
    while (true) {
      long c = nextFree >> header.clusterBits();
      if (refcounts.hasBlockFor(c)) {
        return nextFree;
      }
      long r = c / refcounts.clustersPerBlock();
      setDirtyBit();
      if (r >= refcounts.tableLength()) {
        growRefcountTable(r);
        continue;
      }
      refcounts.addBlock((int) r, nextFree);
      nextFree += header.clusterSize();
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
    long oldOffset = header.refcountTableOffset();
    int oldClusters = header.refcountTableClusters();
    Qcow2Header h = header.withRefcountTable(g.tableOffset(), g.tableClusters());
    byte[] bytes = h.encode();
    file.writeFully(ByteBuffer.wrap(bytes, 48, 12), 48);
    file.force();
    header = h;
    refcounts.useTable(g);
    for (int k = 0; k < oldClusters; k++) {
      pendingFree.add((oldOffset >> header.clusterBits()) + k);
    }
    nextFree = g.end();
    l2.fileEnd(nextFree);
  }

  /** Maps guest cluster {@code cluster} to host cluster {@code host}, written by the next flush. */
  synchronized void map(long cluster, long host) throws IOException {
    setEntry(cluster, host | Entries.COPIED);
  }

  /**
   * Makes guest cluster {@code cluster} read as zeros: a zero cluster over a backing file, else
   * unallocated. Its host cluster, if any, is freed after the next flush made that durable.
   */
  synchronized void zero(long cluster) throws IOException {
    setEntry(cluster, header.backingFile().isPresent() ? Entries.ZERO : 0);
  }

  /** Makes guest cluster {@code cluster} unallocated again (reads from the backing file). */
  synchronized void unmap(long cluster) throws IOException {
    setEntry(cluster, 0);
  }

  private void setEntry(long cluster, long value) throws IOException {
    checkWritable();
    if (!l2.hasTable(cluster)) {
      if (value == 0) {
        return;
      }
      Run r = allocate(1);
      l2.addTable((int) (cluster >>> (header.clusterBits() - 3)), r.offset());
    }
    long old = l2.entry(cluster);
    if (old == value) {
      return;
    }
    releaseLater(old, value);
    l2.setEntry(cluster, value);
  }

  private void releaseLater(long old, long replacement) {
    int bits = header.clusterBits();
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

  void writeData(ByteBuffer src, long host) throws IOException {
    checkWritable();
    file.writeFully(src, host);
    synchronized (this) {
      unforced = true;
    }
  }

  // ---- durability ----------------------------------------------------------------------------

  /** Makes every write durable, in the order the class comment gives. */
  public synchronized void flush() throws IOException {
    if (!writable || closed) {
      return;
    }
    boolean metadata = l2.hasChanges() || refcounts.hasChanges() || !pendingFree.isEmpty();
    if (metadata) {
      setDirtyBit();
    }
    if (refcounts.writeDirty() || unforced) {
      file.force();
      unforced = false;
    }
    if (l2.writeL2()) {
      file.force();
    }
    if (l2.writeL1()) {
      file.force();
    }
    if (!pendingFree.isEmpty()) {
      for (long c : pendingFree) {
        long n = refcounts.get(c);
        if (n > 0) {
          refcounts.set(c, n - 1);
        }
      }
      pendingFree.clear();
      refcounts.writeDirty();
      file.force();
    }
  }

  private void setDirtyBit() throws IOException {
    if (header.isDirty()) {
      return;
    }
    writeIncompatible(header.incompatibleFeatures() | Qcow2Header.INCOMPAT_DIRTY);
  }

  private void writeIncompatible(long bits) throws IOException {
    file.writeFully(
        ByteBuffer.allocate(8).putLong(0, bits), Qcow2Header.INCOMPATIBLE_FEATURES_OFFSET);
    file.force();
    header = withIncompatible(header, bits);
  }

  private static Qcow2Header withIncompatible(Qcow2Header h, long bits) {
    return new Qcow2Header(
        h.clusterBits(),
        h.sizeBytes(),
        h.l1Size(),
        h.l1TableOffset(),
        h.refcountTableOffset(),
        h.refcountTableClusters(),
        h.nbSnapshots(),
        h.snapshotsOffset(),
        bits,
        h.compatibleFeatures(),
        h.autoclearFeatures(),
        h.refcountOrder(),
        h.backingFile(),
        h.backingFormat(),
        h.xsm(),
        h.unknownExtensions());
  }

  /** Called by the repair once the leaks are released and durable. */
  void clearDirtyBit() throws IOException {
    if (header.isDirty()) {
      writeIncompatible(header.incompatibleFeatures() & ~Qcow2Header.INCOMPAT_DIRTY);
    }
  }

  /** Rewrites the header area (one write within the first sector), forced. */
  private void writeHeader(Qcow2Header h) throws IOException {
    byte[] bytes = h.encode();
    if (bytes.length > HEADER_SECTOR) {
      throw Qcow2Header.bad(
          where, "header of " + bytes.length + " bytes cannot be rewritten atomically (limit 512)");
    }
    file.writeFully(ByteBuffer.wrap(bytes), 0);
    file.force();
    header = h;
  }

  // ---- metadata operations ---------------------------------------------------------------------

  /** Sets the hidden flag (a base copy of a VDI tree), durably. */
  public synchronized void setHidden(boolean hidden) throws IOException {
    checkWritable();
    flush();
    XsmExtension x =
        header.xsm().orElse(new XsmExtension(false, UUID.randomUUID(), XsmExtension.NIL));
    writeHeader(header.withXsm(x.withHidden(hidden)));
  }

  /** Points the image at another backing file (or none), durably. */
  public synchronized void setBacking(Optional<String> backingName, UUID backingUuid)
      throws IOException {
    checkWritable();
    flush();
    Qcow2Header h = header.withBacking(backingName);
    if (h.xsm().isPresent()) {
      h =
          h.withXsm(
              h.xsm().get().withParent(backingName.isPresent() ? backingUuid : XsmExtension.NIL));
    }
    writeHeader(h);
  }

  /**
   * Grows the virtual size. A larger L1 table is written (and counted) in new clusters first, then
   * the header is switched to it, then the old table's clusters are freed: a crash leaves the old
   * or the new size, at worst with leaked clusters.
   *
   * @throws Qcow2FormatException when asked to shrink
   */
  public synchronized void resize(long newSizeBytes) throws IOException {
    checkWritable();
    if (newSizeBytes < header.sizeBytes()) {
      throw Qcow2Header.bad(
          where,
          "shrinking from "
              + header.sizeBytes()
              + " to "
              + newSizeBytes
              + " bytes is not supported");
    }
    flush();
    long need = Qcow2Header.l1EntriesFor(newSizeBytes, header.clusterBits());
    if (need > Integer.MAX_VALUE / 8) {
      throw Qcow2Header.bad(where, "size " + newSizeBytes + " needs too large an L1 table");
    }
    if (need <= header.l1Size()) {
      writeHeaderFields(header.withSize(newSizeBytes, header.l1Size(), header.l1TableOffset()));
      return;
    }
    int cs = header.clusterSize();
    int clusters = (int) ceilDiv(need * 8, cs);
    setDirtyBit();
    Run run = allocate(clusters);
    while (run.clusters() < clusters) {
      // A refcount block landed in the way: the short run stays counted, freed right below.
      for (int k = 0; k < run.clusters(); k++) {
        pendingFree.add((run.offset() >> header.clusterBits()) + k);
      }
      run = allocate(clusters);
    }
    long[] table = l2.grownL1((int) need);
    ByteBuffer b = ByteBuffer.allocate(clusters * cs);
    b.asLongBuffer().put(table);
    file.writeFully(b, run.offset());
    refcounts.writeDirty();
    file.force();
    long oldOffset = header.l1TableOffset();
    int oldClusters = (int) ceilDiv(header.l1Size() * 8L, cs);
    writeHeaderFields(header.withSize(newSizeBytes, (int) need, run.offset()));
    l2.useL1(table, run.offset());
    for (int k = 0; k < oldClusters; k++) {
      pendingFree.add((oldOffset >> header.clusterBits()) + k);
    }
    flush();
  }

  /**
   * Writes the size and L1 fields only (bytes 24..47; everything else, such as where a file made by
   * another tool keeps its backing name, unchanged), forced.
   */
  private void writeHeaderFields(Qcow2Header h) throws IOException {
    byte[] bytes = h.encode();
    file.writeFully(ByteBuffer.wrap(bytes, 24, 24), 24);
    file.force();
    header = h;
  }

  // ---- for the check and repair ---------------------------------------------------------------

  Refcounts refcounts() {
    return refcounts;
  }

  L2Tables l2() {
    return l2;
  }

  ImageFile file() {
    return file;
  }

  private void checkWritable() throws Qcow2FormatException {
    if (!writable) {
      throw Qcow2Header.bad(where, "is open read-only");
    }
  }

  long roundUp(long bytes) {
    long cs = header.clusterSize();
    return ceilDiv(bytes, cs) * cs;
  }

  static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /** Flushes (if writable), clears the dirty bit of a cleanly closed image, closes the file. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    try {
      if (writable) {
        flush();
        clearDirtyBit();
      }
    } finally {
      closed = true;
      file.close();
    }
  }
}
