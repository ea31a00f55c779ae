package org.xsm.plugins.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.xsm.plugins.store.ImageFile;

/**
 * In-place metadata updates of one open {@link VhdImage} (hidden flag, resize, re-parent), each
 * atomic through an undo journal {@code <file>.undo} ({@link UndoJournal}): the extents to be
 * overwritten are saved and forced first, then written, forced, and the journal removed; the next
 * open rolls an interrupted update back. Works on a copy of the image's metadata and hands the
 * result back ({@link VhdImage#updated}) once the update is durable.
 *
 * <p>Not thread-safe: made and used under the image's lock, one update per instance.
 */
final class VhdUpdates {
  private final VhdImage img;
  private VhdFooter footer;
  private DynamicHeader header;
  private int[] bat;
  private Batmap batmap;
  private long footerOffset;

  VhdUpdates(VhdImage img) {
    this.img = img;
    this.footer = img.footer();
    this.header = img.header();
    this.bat = img.bat();
    this.batmap = img.batmap();
    this.footerOffset = img.footerOffset();
  }

  private ImageFile file() {
    return img.file();
  }

  private void publish() {
    img.updated(footer, header, bat, batmap, footerOffset);
  }

  /** Sets blktap's hidden flag (footer byte 85). */
  void setHidden(boolean hidden) throws IOException {
    if (footer.hidden() == hidden) {
      return;
    }
    rewriteFooters(footer.withHidden(hidden), List.of(), () -> {});
  }

  private interface MetadataWrite {
    void run() throws IOException;
  }

  /**
   * Replaces the footer (both copies) and, in the same undo transaction, runs {@code more}, which
   * may overwrite the given extents or write past the current end.
   */
  private void rewriteFooters(
      VhdFooter newFooter, List<UndoJournal.Extent> extents, MetadataWrite more)
      throws IOException {
    img.flush();
    List<UndoJournal.Extent> all = new ArrayList<>(extents);
    all.add(new UndoJournal.Extent(footerOffset, VhdFooter.SIZE));
    if (bat != null) {
      all.add(new UndoJournal.Extent(0, VhdFooter.SIZE));
    }
    UndoJournal j = UndoJournal.begin(img.store(), file(), all);
    more.run();
    byte[] fb = newFooter.encode();
    if (bat != null) {
      file().writeFully(ByteBuffer.wrap(fb), 0);
    }
    file().writeFully(ByteBuffer.wrap(fb), footerOffset);
    file().force();
    j.commit();
    footer = newFooter;
    publish();
  }

  /**
   * Grows the virtual size (rounded up to whole 2 MiB blocks). A fixed disk grows its file; a
   * dynamic or differencing disk whose BAT is too small gets a new, larger BAT (and batmap)
   * appended at the end of the file and pointed to by the header; the old table becomes unused
   * space.
   *
   * @throws VhdFormatException if the new size is smaller than the current one or too large
   */
  void resize(long newSizeBytes) throws IOException {
    long size = VhdImage.roundUpToBlock(newSizeBytes);
    if (size > VhdFooter.MAX_SIZE_BYTES) {
      throw new VhdFormatException(
          "size " + size + " exceeds the VHD maximum of " + VhdFooter.MAX_SIZE_BYTES);
    }
    long current = footer.virtualSizeBytes();
    if (size < current) {
      throw new VhdFormatException(
          "VHD "
              + img.where()
              + ": shrinking from "
              + current
              + " to "
              + size
              + " bytes is not supported");
    }
    if (size == current && size == footer.currentSizeBytes()) {
      return;
    }
    VhdFooter nf = footer.withCurrentSize(size);
    if (bat == null) {
      long oldEnd = footerOffset;
      rewriteFootersFixed(nf, oldEnd, size);
      return;
    }
    int needed = (int) VhdImage.ceilDiv(size, header.blockSizeBytes());
    if (needed <= bat.length) {
      rewriteFooters(nf, List.of(), () -> {});
      return;
    }
    relocateTable(nf, needed);
  }

  private void rewriteFootersFixed(VhdFooter nf, long oldEnd, long newEnd) throws IOException {
    img.flush();
    UndoJournal j =
        UndoJournal.begin(
            img.store(), file(), List.of(new UndoJournal.Extent(oldEnd, VhdFooter.SIZE)));
    file().writeFully(ByteBuffer.wrap(nf.encode()), newEnd);
    // The old footer's sector is now disk data, which must read as zeros.
    file().writeFully(ByteBuffer.allocate(VhdFooter.SIZE), oldEnd);
    file().force();
    j.commit();
    footer = nf;
    footerOffset = newEnd;
    publish();
  }

  private void relocateTable(VhdFooter nf, int needed) throws IOException {
    long tableAt = footerOffset;
    int[] newBat = Arrays.copyOf(bat, needed);
    Arrays.fill(newBat, bat.length, needed, VhdImage.UNUSED);
    long batBytes = Be.pad512(4L * needed);
    Batmap newMap = null;
    long end = tableAt + batBytes;
    if (batmap != null) {
      newMap = new Batmap(end + Batmap.HEADER_SIZE, Batmap.sectorsFor(needed), new byte[0]);
      byte[] map = Arrays.copyOf(batmap.map, newMap.mapSectors * 512);
      newMap = new Batmap(newMap.mapOffset, newMap.mapSectors, map);
      end = newMap.mapOffset + map.length;
    }
    DynamicHeader nh = header.withTable(tableAt, needed);
    final Batmap m = newMap;
    long newFooterAt = end;
    rewriteFootersAt(
        nf,
        newFooterAt,
        List.of(new UndoJournal.Extent(512, DynamicHeader.SIZE)),
        () -> {
          ByteBuffer b = ByteBuffer.allocate((int) batBytes);
          Arrays.fill(b.array(), (byte) 0xff);
          b.asIntBuffer().put(newBat);
          file().writeFully(b, tableAt);
          if (m != null) {
            img.writeBatmap(m, tableAt + batBytes);
          }
          file().writeFully(ByteBuffer.wrap(nh.encode()), 512);
        });
    header = nh;
    bat = newBat;
    batmap = m;
    publish();
  }

  /** Like {@link #rewriteFooters}, but the primary footer moves to {@code newFooterAt}. */
  private void rewriteFootersAt(
      VhdFooter nf, long newFooterAt, List<UndoJournal.Extent> extents, MetadataWrite more)
      throws IOException {
    img.flush();
    List<UndoJournal.Extent> all = new ArrayList<>(extents);
    all.add(new UndoJournal.Extent(0, VhdFooter.SIZE));
    all.add(new UndoJournal.Extent(footerOffset, VhdFooter.SIZE));
    UndoJournal j = UndoJournal.begin(img.store(), file(), all);
    more.run();
    byte[] fb = nf.encode();
    file().writeFully(ByteBuffer.wrap(fb), newFooterAt);
    file().writeFully(ByteBuffer.wrap(fb), 0);
    file().force();
    j.commit();
    footer = nf;
    footerOffset = newFooterAt;
    publish();
  }

  /**
   * Points this differencing disk at another parent: UUID, timestamp, name and the three relative
   * locators (MACX, W2KU, W2RU), rewritten in their existing slots.
   *
   * @throws VhdFormatException if this disk has no parent or the name does not fit its locators
   */
  void setParent(String parentName, VhdFooter parentFooter) throws IOException {
    if (!img.hasParent()) {
      throw new VhdFormatException("VHD " + img.where() + " is not a differencing disk");
    }
    List<ParentLocator> locs = new ArrayList<>(header.locators());
    List<UndoJournal.Extent> extents = new ArrayList<>();
    extents.add(new UndoJournal.Extent(512, DynamicHeader.SIZE));
    List<byte[]> datas = new ArrayList<>();
    for (int i = 0; i < locs.size(); i++) {
      ParentLocator l = locs.get(i);
      if (!l.isUsed()) {
        datas.add(null);
        continue;
      }
      byte[] data = ParentLocator.encodePath(l.code(), parentName);
      if (data.length > l.dataSpaceBytes()) {
        throw new VhdFormatException(
            "VHD " + img.where() + ": parent name '" + parentName + "' does not fit locator " + i);
      }
      locs.set(i, new ParentLocator(l.code(), l.dataSpace(), data.length, l.dataOffset()));
      extents.add(new UndoJournal.Extent(l.dataOffset(), (int) l.dataSpaceBytes()));
      datas.add(Arrays.copyOf(data, (int) l.dataSpaceBytes()));
    }
    if (parentName.getBytes(java.nio.charset.StandardCharsets.UTF_16BE).length > 512) {
      throw new VhdFormatException("parent name '" + parentName + "' is longer than 256 chars");
    }
    DynamicHeader nh =
        header.withParent(parentFooter.uuid(), parentFooter.timestamp(), parentName, locs);
    img.flush();
    UndoJournal j = UndoJournal.begin(img.store(), file(), extents);
    for (int i = 0; i < locs.size(); i++) {
      if (datas.get(i) != null) {
        file().writeFully(ByteBuffer.wrap(datas.get(i)), locs.get(i).dataOffset());
      }
    }
    file().writeFully(ByteBuffer.wrap(nh.encode()), 512);
    file().force();
    j.commit();
    header = nh;
    publish();
  }
}
