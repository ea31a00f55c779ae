package org.xsm.plugins.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.xsm.plugins.store.FileRead;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.LayeredChain;
import org.xsm.plugins.store.ParallelReads;

/**
 * A VHD and its ancestors, read and written as one disk: reads honour each layer's sector bitmaps
 * and fall through to the parent for sectors a layer does not hold; a layer smaller than the disk,
 * and the space below the bottom layer, read as zeros. Writes go to the leaf only.
 *
 * <p>Thread-safety: reads and writes may be issued from several threads; each layer serializes its
 * own metadata. A write and a read of the same bytes at the same time see old or new data.
 */
public final class VhdChain extends LayeredChain<VhdImage> {
  /** Longest chain the engine opens; far beyond xapi's snapshot limit of 30. */
  public static final int MAX_DEPTH = LayeredChain.MAX_DEPTH;

  private VhdChain(List<VhdImage> layers) {
    super(layers);
  }

  /**
   * Opens {@code leaf} (writable if asked) and its parents (read-only), checking each link: the
   * parent exists, its UUID is the one the child records, and there is no cycle.
   */
  public static VhdChain open(ImageStore store, String leaf, boolean writable) throws IOException {
    return open(store, leaf, writable, new java.util.HashMap<>());
  }

  /**
   * {@link #open}, taking parents from {@code openParents} (file name to an image already open
   * read-only, such as {@link #closeLeaf} returned) instead of opening them again; each link is
   * checked all the same. The images used are removed from the map; the caller closes the rest.
   * Only for parents whose files did not change since they were opened.
   */
  public static VhdChain open(
      ImageStore store, String leaf, boolean writable, Map<String, VhdImage> openParents)
      throws IOException {
    return new VhdChain(openLayers(store, leaf, writable, openParents, new VhdLinks(store)));
  }

  /** How VHD layers link: by the parent's base name and UUID in the child's header. */
  private record VhdLinks(ImageStore store) implements Links<VhdImage> {
    @Override
    public VhdImage open(String name, boolean writable) throws IOException {
      return VhdImage.open(store, name, writable);
    }

    @Override
    public Optional<String> parentName(VhdImage child) {
      return child.hasParent() ? Optional.of(parentFileName(child)) : Optional.empty();
    }

    @Override
    public void check(VhdImage child, VhdImage parent) throws IOException {
      if (!parent.footer().uuid().equals(child.header().parentUuid())) {
        throw new VhdFormatException(
            "VHD "
                + child.where()
                + ": parent UUID "
                + child.header().parentUuid()
                + " does not match "
                + parent.where()
                + " (UUID "
                + parent.footer().uuid()
                + ")");
      }
    }

    @Override
    public IOException badChain(String leaf, String what) {
      return new VhdFormatException("VHD chain of " + leaf + " " + what);
    }

    @Override
    public IOException broken(VhdImage child, String what) {
      return new VhdFormatException("VHD " + child.where() + ": " + what);
    }
  }

  /**
   * The file name of a differencing disk's parent. Spec deviation: only the base name of the
   * recorded parent name is used, because an image store is one flat directory.
   */
  static String parentFileName(VhdImage child) {
    String n = child.header().parentName();
    int slash = Math.max(n.lastIndexOf('/'), n.lastIndexOf('\\'));
    return n.substring(slash + 1);
  }

  /**
   * Closes the leaf (flushing it) and hands the parents, still open, to the caller by file name,
   * for a later {@link #open(ImageStore, String, boolean, Map)} over the same parents. The chain is
   * unusable afterwards.
   */
  public Map<String, VhdImage> closeLeaf() throws IOException {
    stopReadAhead();
    Map<String, VhdImage> parents = new java.util.HashMap<>();
    for (VhdImage l : layers().subList(1, layers().size())) {
      parents.put(l.name(), l);
    }
    try {
      layers().get(0).close();
    } catch (IOException | RuntimeException e) {
      for (VhdImage p : parents.values()) {
        try {
          p.close();
        } catch (IOException c) {
          e.addSuppressed(c);
        }
      }
      throw e;
    }
    return parents;
  }

  @Override
  public long virtualSizeBytes() {
    return leaf().virtualSizeBytes();
  }

  /**
   * Reads {@code dst.remaining()} bytes of the disk at {@code offset}: planned, then read, in
   * parallel where the plan spans several files ({@link ReadPlan}).
   */
  @Override
  public void read(ByteBuffer dst, long offset) throws IOException {
    checkRange(offset, dst.remaining());
    readInto(dst, offset, readingAhead(offset, dst.remaining()));
  }

  /** For read-ahead: the sector bitmaps of the range are loaded first, in parallel. */
  @Override
  protected List<FileRead> planReads(long offset, int length) throws IOException {
    loadBitmaps(offset, length);
    return new ReadPlan(layers(), this::readOf).plan(offset, 0, length).fileReads();
  }

  /**
   * Reads the sector bitmaps that a read of the range may need and that no layer holds in memory,
   * in parallel: cold, each is a device read, which planning would otherwise wait for one by one.
   */
  private void loadBitmaps(long offset, int length) throws IOException {
    List<ParallelReads.Piece> loads = new ArrayList<>();
    int pos = 0;
    for (VhdImage l : layers()) {
      if (l.isFixed()) {
        continue;
      }
      int bs = l.blockSize();
      long changes = l.bitmapChanges();
      long end = Math.min(offset + length, l.virtualSizeBytes());
      for (long b = offset / bs; b * bs < end; b++) {
        int block = (int) b;
        long at = l.uncachedBitmapOffset(block);
        if (at >= 0) {
          loads.add(
              new ParallelReads.Piece(
                  part -> l.loadBitmap(block, at, changes, part), pos, l.bitmapBytes(), false));
          pos += l.bitmapBytes();
        }
      }
    }
    if (!loads.isEmpty()) {
      ParallelReads.run(loads, ByteBuffer.allocate(pos), loads.size() > 1);
    }
  }

  private void readInto(ByteBuffer dst, long offset, boolean mayParallel) throws IOException {
    int n = dst.remaining();
    ByteBuffer target = dst.slice();
    new ReadPlan(layers(), this::readOf).plan(offset, 0, n).execute(target, n, mayParallel);
    dst.position(dst.position() + n);
  }

  private void readOf(int layer, ByteBuffer dst, long fileOffset) throws IOException {
    readLayer(layer, dst, fileOffset, layers().get(layer)::readFile);
  }

  /**
   * Writes {@code src.remaining()} bytes at {@code offset} into the leaf. Partial sectors are
   * completed with the chain's current content (read-modify-write).
   */
  @Override
  public void write(ByteBuffer src, long offset) throws IOException {
    checkRange(offset, src.remaining());
    VhdImage leaf = leaf();
    if (!leaf.isWritable()) {
      throw new VhdFormatException("VHD " + leaf.where() + " is open read-only");
    }
    try {
      writeLeaf(leaf, src, offset);
    } finally {
      leafWritten();
    }
  }

  private void writeLeaf(VhdImage leaf, ByteBuffer src, long offset) throws IOException {
    while (src.hasRemaining()) {
      int inSector = (int) (offset % 512);
      if (inSector != 0 || src.remaining() < 512) {
        int n = Math.min(512 - inSector, src.remaining());
        ByteBuffer sector = ByteBuffer.allocate(512);
        long start = offset - inSector;
        readInto(sector, start, false);
        sector.clear().position(inSector);
        sector.put(src.slice().limit(n)).clear();
        leaf.writeSectors(start, sector);
        src.position(src.position() + n);
        offset += n;
      } else {
        int n = src.remaining() & ~511;
        ByteBuffer whole = src.slice().limit(n);
        leaf.writeSectors(offset, whole);
        src.position(src.position() + n);
        offset += n;
      }
    }
  }

  /** Makes all writes durable (see {@link VhdImage#flush}). */
  @Override
  public void flush() throws IOException {
    leaf().flush();
  }
}
