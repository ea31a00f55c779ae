package org.xsm.plugins.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * The VHD operations that xapi's storage manager uses (the engine behind {@code vhd-util}): each
 * opens what it needs, does one thing and closes.
 */
public final class Vhd {
  private Vhd() {}

  /** What {@code vhd-util query} reports about one file. */
  public record Info(
      long virtualSizeBytes,
      long physicalSizeBytes,
      String parentName,
      boolean hidden,
      int chainDepth,
      DiskType type,
      java.util.UUID uuid,
      BitSet allocatedBlocks) {}

  /** Creates a fixed ({@code fixed}) or dynamic disk of at least {@code sizeBytes}. */
  public static void create(ImageStore store, String name, long sizeBytes, boolean fixed)
      throws IOException {
    try (VhdImage img =
        fixed
            ? VhdCreator.createFixed(store, name, sizeBytes)
            : VhdCreator.createDynamic(store, name, sizeBytes)) {
      img.flush();
    }
  }

  /** Creates {@code child}, an empty differencing disk over {@code parent}. */
  public static void snapshot(ImageStore store, String child, String parent) throws IOException {
    try (VhdChain chain = VhdChain.open(store, parent, false);
        VhdImage img = VhdCreator.createDifferencing(store, child, chain.leaf(), 0)) {
      img.flush();
    }
  }

  /** Everything {@code vhd-util query} can report. */
  public static Info query(ImageStore store, String name) throws IOException {
    try (VhdImage img = VhdImage.open(store, name, false)) {
      int depth = 1;
      if (img.hasParent()) {
        try (VhdChain chain = VhdChain.open(store, name, false)) {
          depth = chain.depth();
        }
      }
      return new Info(
          img.virtualSizeBytes(),
          img.physicalSizeBytes(),
          img.hasParent() ? VhdChain.parentFileName(img) : null,
          img.footer().hidden(),
          depth,
          img.footer().diskType(),
          img.footer().uuid(),
          img.allocatedBlocks());
    }
  }

  public static void setHidden(ImageStore store, String name, boolean hidden) throws IOException {
    try (VhdImage img = VhdImage.open(store, name, true)) {
      img.setHidden(hidden);
    }
  }

  /**
   * Sets the hidden flag by rewriting the two footer copies in place, without an undo journal and
   * without reading the block table: for a file whose owner can undo the change after a crash (a
   * snapshot's new base copy, under the snapshot's op log, whose rollback unhides it).
   *
   * <p>Crash safety: the copy at offset 0 is written and forced, then the primary at the end of the
   * file and forced; a crash tears at most the copy being written, and open recovers from the
   * other. A fixed disk (one footer), a primary footer that is not the last sector of the file, or
   * a pending undo journal take the journalled {@link #setHidden} instead.
   */
  public static void setHiddenUnjournaled(ImageStore store, String name, boolean hidden)
      throws IOException {
    if (store.exists(VhdSummary.undoJournalName(name))) {
      setHidden(store, name, hidden);
      return;
    }
    VhdFooter footer;
    long end;
    try (ImageFile f = store.open(name, false)) {
      end = f.size() - VhdFooter.SIZE;
      footer = end < VhdFooter.SIZE ? null : readFooter(f, end, store.describe(name));
    }
    if (footer == null || footer.diskType() == DiskType.FIXED) {
      setHidden(store, name, hidden);
      return;
    }
    if (footer.hidden() == hidden) {
      return;
    }
    byte[] fb = footer.withHidden(hidden).encode();
    try (ImageFile f = store.open(name, true)) {
      f.writeFully(ByteBuffer.wrap(fb), 0);
      f.force();
      f.writeFully(ByteBuffer.wrap(fb), end);
      f.force();
    }
  }

  /** The footer at {@code offset}, or null if it does not decode there. */
  private static VhdFooter readFooter(ImageFile f, long offset, String where) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(VhdFooter.SIZE);
    f.readFully(b, offset);
    try {
      return VhdFooter.decode(b.array(), "footer in " + where);
    } catch (VhdFormatException e) {
      return null; // damaged: the journalled path opens the file, which repairs it
    }
  }

  /** Grows a disk; see {@link VhdImage#resize}. */
  public static void resize(ImageStore store, String name, long sizeBytes) throws IOException {
    try (VhdImage img = VhdImage.open(store, name, true)) {
      img.resize(sizeBytes);
    }
  }

  /** Points {@code child} at {@code newParent}. */
  public static void setParent(ImageStore store, String child, String newParent)
      throws IOException {
    try (VhdImage parent = VhdImage.open(store, newParent, false);
        VhdImage img = VhdImage.open(store, child, true)) {
      if (child.equals(newParent)) {
        throw new VhdFormatException("a VHD cannot be its own parent: " + img.where());
      }
      img.setParent(newParent, parent.footer());
    }
  }

  /**
   * Merges the sectors {@code child} holds into its parent, growing the parent first if the child
   * is larger. The child is not changed.
   *
   * <p>Crash safety: the copy is idempotent and the parent is flushed at the end. The parent is
   * only read through this child (xapi coalesces a parent with exactly one child), and the child
   * holds every sector being copied, so a crash mid-way changes nothing any reader sees; running
   * coalesce again completes it.
   *
   * @return the number of bytes copied
   */
  public static long coalesce(ImageStore store, String child) throws IOException {
    return coalesce(store, child, copied -> {}, () -> false);
  }

  /**
   * {@link #coalesce(ImageStore, String)}, reporting the bytes copied so far after each block and
   * stopping early (with {@link java.io.InterruptedIOException}) when {@code abort} says so; the
   * parent is flushed either way, and a later run completes the merge.
   */
  public static long coalesce(
      ImageStore store,
      String child,
      java.util.function.LongConsumer progress,
      java.util.function.BooleanSupplier abort)
      throws IOException {
    try (VhdImage c = VhdImage.open(store, child, false)) {
      if (!c.hasParent()) {
        throw new VhdFormatException("VHD " + c.where() + " has no parent to coalesce into");
      }
      try (VhdChain chain = VhdChain.open(store, child, false)) {
        chain.depth(); // validates the whole chain before the parent is written
      }
      try (VhdImage p = VhdImage.open(store, VhdChain.parentFileName(c), true)) {
        if (p.virtualSizeBytes() < c.virtualSizeBytes()) {
          p.resize(c.virtualSizeBytes());
        }
        try {
          return copyPresentSectors(c, p, progress, abort);
        } finally {
          p.flush();
        }
      }
    }
  }

  private static long copyPresentSectors(
      VhdImage from,
      VhdImage to,
      java.util.function.LongConsumer progress,
      java.util.function.BooleanSupplier abort)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(from.blockSize());
    long copied = 0;
    BitSet blocks = from.allocatedBlocks();
    for (int b = blocks.nextSetBit(0); b >= 0; b = blocks.nextSetBit(b + 1)) {
      if (abort.getAsBoolean()) {
        throw new java.io.InterruptedIOException("coalesce of " + from.where() + " aborted");
      }
      progress.accept(copied);
      long before = copied;
      copied += copyBlock(from, to, b, null, buf, n -> progress.accept(before + n));
    }
    return copied;
  }

  /** Longest run of sectors copied by one read and one write: 256 KiB. */
  private static final int MAX_RUN_SECTORS = 512;

  /**
   * Copies the sectors of block {@code block} that {@code from} holds, and that {@code only} names
   * (sector numbers within the block; every sector when null), into {@code to} at the same disk
   * offsets. {@code to} is not flushed. The collector's building block: it copies a leaf into its
   * parent block by block, under the leaf device's read lock, then again the sectors written
   * meanwhile.
   *
   * @param buf a scratch buffer of at least one block
   * @return the bytes copied
   */
  public static long copyBlock(VhdImage from, VhdImage to, int block, BitSet only, ByteBuffer buf)
      throws IOException {
    return copyBlock(from, to, block, only, buf, n -> {});
  }

  /**
   * {@link #copyBlock(VhdImage, VhdImage, int, BitSet, ByteBuffer)} in runs of at most 256 KiB,
   * telling {@code piece} the bytes copied so far in this block after each run (a caller pacing its
   * copies spreads them this finely).
   */
  public static long copyBlock(
      VhdImage from,
      VhdImage to,
      int block,
      BitSet only,
      ByteBuffer buf,
      java.util.function.LongConsumer piece)
      throws IOException {
    if (!from.isAllocated(block)) {
      return 0;
    }
    int bs = from.blockSize();
    long base = (long) block * bs;
    int len = (int) Math.min(bs, from.virtualSizeBytes() - base);
    if (len <= 0) {
      return 0;
    }
    byte[] bitmap = from.isFull(block) ? null : from.bitmap(block);
    int sectors = len / 512;
    long copied = 0;
    int s = 0;
    while (s < sectors) {
      if (!(bitmap == null || Be.bit(bitmap, s)) || (only != null && !only.get(s))) {
        s++;
        continue;
      }
      int e = s + 1;
      while (e < sectors
          && e - s < MAX_RUN_SECTORS
          && (bitmap == null || Be.bit(bitmap, e))
          && (only == null || only.get(e))) {
        e++;
      }
      buf.clear().limit((e - s) * 512);
      from.readFile(buf, from.dataOffset(block) + s * 512L);
      buf.flip();
      to.writeSectors(base + s * 512L, buf);
      copied += (e - s) * 512L;
      piece.accept(copied);
      s = e;
    }
    return copied;
  }

  /**
   * Checks one file (everything {@link VhdImage#open} validates, plus the batmap against the sector
   * bitmaps and BAT entries past the virtual size) and, with {@code parents}, its whole chain.
   *
   * @return the problems found; empty if the file (and chain) is valid
   */
  public static List<String> check(ImageStore store, String name, boolean parents)
      throws IOException {
    List<String> problems = new ArrayList<>();
    try (VhdImage img = VhdImage.open(store, name, false)) {
      checkBlocks(img, problems);
      if (parents && img.hasParent()) {
        try (VhdChain chain = VhdChain.open(store, name, false)) {
          for (VhdImage l : chain.layers().subList(1, chain.depth())) {
            checkBlocks(l, problems);
          }
        }
      }
    } catch (VhdFormatException e) {
      problems.add(e.getMessage());
    }
    return problems;
  }

  private static void checkBlocks(VhdImage img, List<String> problems) throws IOException {
    if (img.isFixed()) {
      return;
    }
    long used = VhdImage.ceilDiv(img.virtualSizeBytes(), img.blockSize());
    BitSet blocks = img.allocatedBlocks();
    for (int b = blocks.nextSetBit(0); b >= 0; b = blocks.nextSetBit(b + 1)) {
      if (b >= used) {
        problems.add(
            "VHD " + img.where() + ": BAT entry " + b + " is in use past the virtual size");
        continue;
      }
      boolean batmapFull = img.isFull(b);
      byte[] bitmap = img.bitmap(b);
      int sectors = img.blockSize() / 512;
      boolean allSet = true;
      for (int s = 0; s < sectors && allSet; s++) {
        allSet = Be.bit(bitmap, s);
      }
      if (batmapFull && !allSet) {
        problems.add(
            "VHD "
                + img.where()
                + ": batmap marks block "
                + b
                + " full but its sector bitmap is not");
      }
    }
  }
}
