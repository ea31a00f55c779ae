package org.xsm.plugins.qcow2;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.Optional;
import java.util.UUID;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * One open qcow2 file: its header, refcounts and cluster map. {@link Qcow2Chain} reads and writes
 * guest data through it.
 *
 * <p><b>Write ordering</b> (what makes a power cut at any point leave {@code qemu-img check}
 * without errors): guest data goes to new clusters (free ones, whose count of 0 is durable, first;
 * else past the end of all allocated space), which are counted (refcount 1) and mapped (L2 entry)
 * in memory only. {@link #flush()} then writes, in this order, each step forced before the next:
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
 * before the header points to it. New clusters come first from clusters whose count of 0 is durable
 * (freed and flushed), then from past the end ({@link ClusterAllocator}).
 *
 * <p>Header changes (size, L1 table, hidden flag, backing file) rewrite the header area, which
 * stays within one 512-byte sector and is written by one write: it holds the old or the new state.
 *
 * <p>Thread-safety: metadata is guarded by this object's lock; guest data is read and written
 * outside it. {@link Qcow2Chain} serializes writes.
 */
public final class Qcow2Image implements Closeable {
  private final ImageStore store;
  private final ImageFile file;
  private final boolean writable;
  private final String where;
  private HeaderFile header;
  private Refcounts refcounts;
  private L2Tables l2;
  private ClusterAllocator clusters;
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
    header = new HeaderFile(file, where, Qcow2Header.decode(head.array(), size, where));
    if (writable && header.get().nbSnapshots() > 0) {
      throw Qcow2Header.bad(
          where,
          "has "
              + header.get().nbSnapshots()
              + " internal snapshots; it can only be opened read-only");
    }
    if (writable && (header.get().incompatibleFeatures() & Qcow2Header.INCOMPAT_CORRUPT) != 0) {
      throw Qcow2Header.bad(where, "is marked corrupt; repair it with qemu-img check -r all first");
    }
    refcounts = Refcounts.load(file, where, header.get(), size);
    l2 = L2Tables.load(file, where, header.get(), size);
    clusters = new ClusterAllocator(where, header, refcounts, l2, file);
    if (writable && header.get().isDirty()) {
      Qcow2Check.repair(this);
    }
  }

  // ---- what the chain and the operations read -----------------------------------------------

  public synchronized Qcow2Header header() {
    return header.get();
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
    return header.get().sizeBytes();
  }

  public int clusterBits() {
    return header.get().clusterBits();
  }

  public int clusterSize() {
    return header.get().clusterSize();
  }

  public synchronized boolean isHidden() {
    return header.get().isHidden();
  }

  /** The backing file's name in the store: the base name of what the header records. */
  public synchronized Optional<String> backingFileName() {
    return header.get().backingFile().map(Qcow2Image::baseName);
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
    return l2.allocatedClusters(ceilDiv(header.get().sizeBytes(), header.get().clusterSize()));
  }

  /**
   * Reads bytes this file itself holds (data, zero or compressed cluster) at guest {@code offset},
   * within one cluster; returns false, with {@code dst} untouched, for a cluster it does not hold.
   * For copies of one layer (a live coalesce of a leaf into its backing file).
   */
  public boolean readOwn(ByteBuffer dst, long offset) throws IOException {
    return HostReads.readOwn(this, dst, offset);
  }

  /** Reads guest data from host offset {@code host}; bytes past the file end read as zeros. */
  void readData(ByteBuffer dst, long host) throws IOException {
    HostReads.readData(file, dst, host);
  }

  /** Inflates compressed cluster {@code entry} and puts bytes {@code from..} of it into dst. */
  void readCompressed(long entry, int from, ByteBuffer dst) throws IOException {
    HostReads.readCompressed(file, where, header.get(), entry, from, dst);
  }

  // ---- what the chain writes -----------------------------------------------------------------

  /** Allocates up to {@code max} contiguous clusters ({@link ClusterAllocator#allocate}). */
  synchronized ClusterAllocator.Run allocate(int max) throws IOException {
    checkWritable();
    return clusters.allocate(max);
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
    setEntry(cluster, header.get().backingFile().isPresent() ? Entries.ZERO : 0);
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
      ClusterAllocator.Run r = clusters.allocate(1);
      l2.addTable((int) (cluster >>> (header.get().clusterBits() - 3)), r.offset());
    }
    long old = l2.entry(cluster);
    if (old == value) {
      return;
    }
    clusters.releaseEntryLater(old, value);
    l2.setEntry(cluster, value);
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
    boolean metadata = l2.hasChanges() || refcounts.hasChanges() || clusters.hasPendingFrees();
    if (metadata) {
      header.setDirtyBit();
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
    clusters.release(file);
  }

  // ---- metadata operations ---------------------------------------------------------------------

  /** Sets the hidden flag (a base copy of a VDI tree), durably. */
  public synchronized void setHidden(boolean hidden) throws IOException {
    checkWritable();
    flush();
    XsmExtension x =
        header.get().xsm().orElse(new XsmExtension(false, UUID.randomUUID(), XsmExtension.NIL));
    header.rewrite(header.get().withXsm(x.withHidden(hidden)));
  }

  /** Points the image at another backing file (or none), durably. */
  public synchronized void setBacking(Optional<String> backingName, UUID backingUuid)
      throws IOException {
    checkWritable();
    flush();
    Qcow2Header h = header.get().withBacking(backingName);
    if (h.xsm().isPresent()) {
      h =
          h.withXsm(
              h.xsm().get().withParent(backingName.isPresent() ? backingUuid : XsmExtension.NIL));
    }
    header.rewrite(h);
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
    if (newSizeBytes < header.get().sizeBytes()) {
      throw Qcow2Header.bad(
          where,
          "shrinking from "
              + header.get().sizeBytes()
              + " to "
              + newSizeBytes
              + " bytes is not supported");
    }
    flush();
    long need = Qcow2Header.l1EntriesFor(newSizeBytes, header.get().clusterBits());
    if (need > Integer.MAX_VALUE / 8) {
      throw Qcow2Header.bad(where, "size " + newSizeBytes + " needs too large an L1 table");
    }
    if (need <= header.get().l1Size()) {
      header.writeSizeFields(
          header.get().withSize(newSizeBytes, header.get().l1Size(), header.get().l1TableOffset()));
      return;
    }
    int cs = header.get().clusterSize();
    int clusters = (int) ceilDiv(need * 8, cs);
    header.setDirtyBit();
    ClusterAllocator.Run run = this.clusters.allocate(clusters);
    while (run.clusters() < clusters) {
      // A refcount block or a used cluster in the way: the short run stays counted, freed below.
      this.clusters.freeLater(run.offset() >> header.get().clusterBits(), run.clusters());
      run = this.clusters.allocate(clusters);
    }
    long[] table = l2.grownL1((int) need);
    ByteBuffer b = ByteBuffer.allocate(clusters * cs);
    b.asLongBuffer().put(table);
    file.writeFully(b, run.offset());
    refcounts.writeDirty();
    file.force();
    long oldOffset = header.get().l1TableOffset();
    int oldClusters = (int) ceilDiv(header.get().l1Size() * 8L, cs);
    header.writeSizeFields(header.get().withSize(newSizeBytes, (int) need, run.offset()));
    l2.useL1(table, run.offset());
    this.clusters.freeLater(oldOffset >> header.get().clusterBits(), oldClusters);
    flush();
  }

  // ---- for the check and repair ---------------------------------------------------------------

  /** Called by the repair once the leaks are released and durable. */
  void clearDirtyBit() throws IOException {
    header.clearDirtyBit();
  }

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
    long cs = header.get().clusterSize();
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
        header.clearDirtyBit();
      }
    } finally {
      closed = true;
      file.close();
    }
  }
}
