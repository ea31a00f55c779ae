package org.xsm.plugins.vhd;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * One open VHD file: its validated metadata and I/O on its own blocks. Chains of images are read
 * and written through {@link VhdChain}.
 *
 * <h2>Crash safety of writes</h2>
 *
 * Data goes to the file at once; metadata (sector bitmaps, BAT entries, batmap, the footer at the
 * new end) waits for {@link #flush}, which writes it in this order:
 *
 * <ol>
 *   <li>{@code force()}: all data written so far is durable.
 *   <li>Write dirty bitmaps, BAT sectors, the batmap and, if blocks were added, the footer at the
 *       new end of the file; {@code force()}.
 * </ol>
 *
 * A new block is placed at the current end (where the primary footer was), so its data area lies
 * past the old end of the file and reads as zeros until written: blocks are zero-filled without
 * writing zeros. What a crash leaves:
 *
 * <ul>
 *   <li>Before step 1 completes: the on-disk metadata is that of the last flush; sectors written
 *       since then into already-mapped sectors may hold old or new data (the block-device contract
 *       for unflushed writes); everything else reads as before. The primary footer may have been
 *       overwritten by new blocks: {@link #open} then recovers it from the copy at offset 0, puts
 *       it after the last block the BAT maps and truncates what follows.
 *   <li>During step 2: any subset of the new metadata may be durable. Each piece only ever points
 *       at data made durable in step 1, and a BAT entry whose bitmap is not yet written finds an
 *       all-zero bitmap (fresh space), which reads through to the parent: the result is a mix of
 *       old and new sectors, never garbage.
 * </ul>
 *
 * In-place metadata updates (hidden flag, resize, re-parent) go through {@link UndoJournal}.
 *
 * <p>Thread-safety: all methods are synchronized on the image.
 */
public final class VhdImage implements Closeable {
  static final int UNUSED = -1;

  /**
   * Alignment in the file of a new block's data (its bitmap just before): 64 KiB, so that guest
   * runs aligned on 64 KiB land on file ranges the page cache keeps in large folios (a 64 KiB read
   * of 4 KiB-aligned data costs about a third more); the padding is a hole, no space on disk.
   */
  private static final long DATA_ALIGN = 64 * 1024;

  private final ImageStore store;
  private final ImageFile file;
  private final boolean writable;
  private final String where;

  private VhdFooter footer;
  private DynamicHeader header;
  private int[] bat;
  private Batmap batmap;
  private long footerOffset;
  private boolean recovered;

  /** Sector bitmaps in memory (made when the header is known). */
  private SectorBitmaps bitmaps;

  private final BitSet dirtyBatSectors = new BitSet();
  private boolean batmapDirty;
  private boolean footerMoved;

  /** Data written since the last force(): a flush with nothing to force does no I/O. */
  private boolean unforced;

  private boolean closed;

  private VhdImage(ImageStore store, ImageFile file, boolean writable) {
    this.store = store;
    this.file = file;
    this.writable = writable;
    this.where = store.describe(file.name());
  }

  /**
   * Opens and validates a VHD file. A damaged primary footer is recovered from the copy at offset 0
   * (and rewritten, if {@code writable}); an interrupted metadata update is rolled back.
   *
   * @throws VhdFormatException naming the file and the first check that failed
   */
  public static VhdImage open(ImageStore store, String name, boolean writable) throws IOException {
    if (store.exists(UndoJournal.journalName(name))) {
      // Roll back an interrupted metadata update first, even for a read-only open, so that every
      // reader after a crash sees the state from before it.
      try (ImageFile w = store.open(name, true)) {
        UndoJournal.recover(store, w);
      }
    }
    ImageFile f = store.open(name, writable);
    VhdImage img = new VhdImage(store, f, writable);
    try {
      img.load();
      return img;
    } catch (IOException | RuntimeException e) {
      f.close();
      throw e;
    }
  }

  private byte[] readBytes(long off, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len);
    file.readFully(b, off);
    return b.array();
  }

  private void load() throws IOException {
    VhdLayout l = VhdLayout.read(file, where);
    footer = l.footer;
    header = l.header;
    bat = l.bat;
    batmap = l.batmap;
    footerOffset = l.footerOffset;
    recovered = l.recovered;
    bitmaps = new SectorBitmaps(header == null ? 0 : header.blockSizeBytes() / 512);
    if (batmap != null) {
      for (int i = 0; i < bat.length; i++) {
        if (bat[i] != UNUSED && batmap.test(i)) {
          bitmaps.setFull(i);
        }
      }
    }
    if (recovered && writable) {
      // Repair, only once everything validated: the primary footer is lost; put the copy after
      // the last mapped block and drop what follows (unreferenced blocks).
      file.writeFully(ByteBuffer.wrap(footer.encode()), footerOffset);
      file.truncate(footerOffset + VhdFooter.SIZE);
      file.force();
    }
  }

  // ---- accessors ----

  public synchronized VhdFooter footer() {
    return footer;
  }

  /** The dynamic header, or null for a fixed disk. */
  public synchronized DynamicHeader header() {
    return header;
  }

  public String name() {
    return file.name();
  }

  /** The path-like description of the file, for messages. */
  public String where() {
    return where;
  }

  public ImageStore store() {
    return store;
  }

  public boolean isWritable() {
    return writable;
  }

  /** Whether opening found the primary footer damaged and used the copy at offset 0. */
  public boolean wasRecovered() {
    return recovered;
  }

  public synchronized long virtualSizeBytes() {
    return footer.virtualSizeBytes();
  }

  public synchronized boolean isFixed() {
    return footer.diskType() == DiskType.FIXED;
  }

  public synchronized boolean hasParent() {
    return footer.diskType() == DiskType.DIFFERENCING;
  }

  /** The file's size in bytes, including metadata and pending allocations. */
  public synchronized long physicalSizeBytes() throws IOException {
    return Math.max(file.size(), footerOffset + VhdFooter.SIZE);
  }

  /** Size of a block in bytes (for a fixed disk, the unit its blocks are counted in). */
  public int blockSize() {
    return isFixed() ? DynamicHeader.DEFAULT_BLOCK_SIZE : header.blockSizeBytes();
  }

  int bitmapBytes() {
    return (int) Be.pad512(header.blockSizeBytes() / 512 / 8);
  }

  /** Number of BAT entries (0 for a fixed disk). */
  public synchronized int blockCount() {
    return bat == null ? 0 : bat.length;
  }

  /** Allocated blocks: the BAT entries in use (for a fixed disk, every block). */
  public synchronized BitSet allocatedBlocks() {
    BitSet s = new BitSet();
    if (bat == null) {
      s.set(0, (int) ceilDiv(footer.currentSizeBytes(), blockSize()));
      return s;
    }
    for (int i = 0; i < bat.length; i++) {
      if (bat[i] != UNUSED) {
        s.set(i);
      }
    }
    return s;
  }

  synchronized boolean isAllocated(int block) {
    return bat == null || (block < bat.length && bat[block] != UNUSED);
  }

  synchronized boolean isFull(int block) {
    return bat == null || bitmaps.isFull(block);
  }

  /** The block's sector bitmap (MSB first); do not modify. The block must be allocated. */
  synchronized byte[] bitmap(int block) throws IOException {
    byte[] b = bitmaps.inMemory(block);
    if (b == null) {
      b = readBytes(Integer.toUnsignedLong(bat[block]) * 512, bitmapBytes());
      bitmaps.loaded(block, b);
    }
    return b;
  }

  /**
   * Where the block's sector bitmap is in the file, if a read of the block needs it and it is not
   * in memory; else -1. For loading the bitmaps of a range ahead of reads, in parallel.
   */
  /** The count of sector-bitmap changes so far (see {@link #loadBitmap}). */
  synchronized long bitmapChanges() {
    return bitmaps.changes();
  }

  synchronized long uncachedBitmapOffset(int block) {
    if (bat == null || block >= bat.length || bat[block] == UNUSED || bitmaps.known(block)) {
      return -1;
    }
    return Integer.toUnsignedLong(bat[block]) * 512;
  }

  /**
   * Reads the block's sector bitmap at {@code at} (from {@link #uncachedBitmapOffset}) into {@code
   * part}, outside the lock, and keeps it unless the block's bitmap came into memory meanwhile or
   * any bitmap changed since {@code changes} (from {@link #bitmapChanges}, taken before the
   * offset).
   */
  void loadBitmap(int block, long at, long changes, ByteBuffer part) throws IOException {
    readFile(part, at);
    byte[] b = new byte[part.capacity()];
    part.get(0, b);
    synchronized (this) {
      if (changes != bitmaps.changes()
          || Integer.toUnsignedLong(bat[block]) * 512 != at
          || bitmaps.inMemory(block) != null) {
        return;
      }
      bitmaps.loaded(block, b);
    }
  }

  /** Byte offset in the file of the block's data (or of the disk offset, for fixed disks). */
  synchronized long dataOffset(int block) {
    if (bat == null) {
      return (long) block * blockSize();
    }
    return Integer.toUnsignedLong(bat[block]) * 512 + bitmapBytes();
  }

  /** Reads {@code dst.remaining()} bytes at {@code fileOffset} of this file. */
  void readFile(ByteBuffer dst, long fileOffset) throws IOException {
    file.readFully(dst, fileOffset);
  }

  // ---- writes ----

  /**
   * Writes whole sectors at a sector-aligned disk offset into this file (not its parents),
   * allocating blocks and marking sectors present as needed. Metadata reaches the disk at the next
   * {@link #flush}.
   */
  synchronized void writeSectors(long offset, ByteBuffer src) throws IOException {
    checkWritable();
    if (offset % 512 != 0 || src.remaining() % 512 != 0) {
      throw new IllegalArgumentException("unaligned sector write");
    }
    if (offset + src.remaining() > footer.virtualSizeBytes()) {
      throw new IllegalArgumentException("write past the end of the disk");
    }
    unforced = true;
    if (bat == null) {
      file.writeFully(src, offset);
      return;
    }
    int bs = header.blockSizeBytes();
    while (src.hasRemaining()) {
      int block = (int) (offset / bs);
      int inBlock = (int) (offset % bs);
      int n = Math.min(bs - inBlock, src.remaining());
      if (bat[block] == UNUSED) {
        allocate(block);
      }
      ByteBuffer part = src.slice();
      part.limit(n);
      file.writeFully(part, dataOffset(block) + inBlock);
      src.position(src.position() + n);
      if (!bitmaps.isFull(block)
          && bitmaps.markPresent(block, bitmap(block), inBlock / 512, n / 512)
          && batmap != null) {
        batmap.set(block);
        batmapDirty = true;
      }
      offset += n;
    }
  }

  private void allocate(int block) throws IOException {
    long start = footerOffset;
    long data = (start + bitmapBytes() + DATA_ALIGN - 1) & -DATA_ALIGN;
    long bitmapAt = data - bitmapBytes();
    if (bitmapAt / 512 >= 0xffffffffL) {
      throw new VhdFormatException("VHD " + where + " would grow past what a BAT can address");
    }
    if (bitmapAt < start + VhdFooter.SIZE) {
      // The bitmap covers the old primary footer, whose bytes would read as a sector bitmap if a
      // crash kept the BAT entry but not the bitmap written by flush: zero it now. Otherwise the
      // old footer stays in the padding, never at the end of the file again (nothing reads it), and
      // the bitmap lies past the end of the file: a hole, zeros.
      file.writeFully(ByteBuffer.allocate((int) (data - start)), start);
    }
    bat[block] = (int) (bitmapAt / 512);
    dirtyBatSectors.set(block / 128);
    bitmaps.newBlock(block, bitmapBytes());
    footerOffset = data + header.blockSizeBytes();
    footerMoved = true;
  }

  /** Makes every write so far durable, in the order described on the class. */
  public synchronized void flush() throws IOException {
    if (!writable || closed) {
      return;
    }
    boolean metadata =
        bitmaps.hasChanges() || !dirtyBatSectors.isEmpty() || batmapDirty || footerMoved;
    if (!metadata && !unforced) {
      return;
    }
    if (metadata && file.size() < footerOffset) {
      // The file must cover every new block before a BAT entry points at it; this force() makes
      // the size durable along with the data.
      file.truncate(footerOffset);
    }
    file.force();
    unforced = false;
    if (!metadata) {
      return;
    }
    bitmaps.writeChanges(
        (block, b) ->
            file.writeFully(ByteBuffer.wrap(b), Integer.toUnsignedLong(bat[block]) * 512));
    for (int s = dirtyBatSectors.nextSetBit(0); s >= 0; s = dirtyBatSectors.nextSetBit(s + 1)) {
      int first = s * 128;
      int count = Math.min(128, bat.length - first);
      ByteBuffer b = ByteBuffer.allocate(count * 4);
      b.asIntBuffer().put(bat, first, count);
      file.writeFully(b, header.tableOffset() + first * 4L);
    }
    dirtyBatSectors.clear();
    if (batmapDirty) {
      writeBatmap(batmap, header.tableOffset() + Be.pad512(4L * bat.length));
      batmapDirty = false;
    }
    if (footerMoved) {
      file.writeFully(ByteBuffer.wrap(footer.encode()), footerOffset);
      footerMoved = false;
    }
    file.force();
  }

  void writeBatmap(Batmap m, long headerOffset) throws IOException {
    file.writeFully(ByteBuffer.wrap(m.map), m.mapOffset);
    file.writeFully(ByteBuffer.wrap(m.encodeHeader()), headerOffset);
  }

  private void checkWritable() throws VhdFormatException {
    if (!writable) {
      throw new VhdFormatException("VHD " + where + " is open read-only");
    }
    if (closed) {
      throw new IllegalStateException("VHD " + where + " is closed");
    }
  }

  // ---- in-place metadata updates, each atomic through an undo journal ({@link VhdUpdates}) ----

  /** Sets blktap's hidden flag (footer byte 85). */
  public synchronized void setHidden(boolean hidden) throws IOException {
    checkWritable();
    new VhdUpdates(this).setHidden(hidden);
  }

  /**
   * Grows the virtual size (rounded up to whole 2 MiB blocks). A fixed disk grows its file; a
   * dynamic or differencing disk whose BAT is too small gets a new, larger BAT (and batmap)
   * appended at the end of the file and pointed to by the header; the old table becomes unused
   * space.
   *
   * @throws VhdFormatException if the new size is smaller than the current one or too large
   */
  public synchronized void resize(long newSizeBytes) throws IOException {
    checkWritable();
    new VhdUpdates(this).resize(newSizeBytes);
  }

  /**
   * Points this differencing disk at another parent: UUID, timestamp, name and the three relative
   * locators (MACX, W2KU, W2RU), rewritten in their existing slots.
   *
   * @throws VhdFormatException if this disk has no parent or the name does not fit its locators
   */
  public synchronized void setParent(String parentName, VhdFooter parentFooter) throws IOException {
    checkWritable();
    new VhdUpdates(this).setParent(parentName, parentFooter);
  }

  // ---- for VhdUpdates, under this image's lock ----

  ImageFile file() {
    return file;
  }

  long footerOffset() {
    return footerOffset;
  }

  int[] bat() {
    return bat;
  }

  Batmap batmap() {
    return batmap;
  }

  /** The metadata after an update that {@link VhdUpdates} made durable. */
  void updated(VhdFooter f, DynamicHeader h, int[] newBat, Batmap m, long newFooterOffset) {
    footer = f;
    header = h;
    bat = newBat;
    batmap = m;
    footerOffset = newFooterOffset;
  }

  static long roundUpToBlock(long sizeBytes) {
    long b = DynamicHeader.DEFAULT_BLOCK_SIZE;
    return ceilDiv(sizeBytes, b) * b;
  }

  static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /** Flushes (if writable) and closes the file. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    try {
      flush();
    } finally {
      closed = true;
      file.close();
    }
  }
}
