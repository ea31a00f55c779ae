package org.xsm.plugins.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * An undo log that makes an in-place metadata update of one VHD atomic: setting the hidden flag,
 * growing the disk, re-parenting.
 *
 * <p>Protocol, and what a crash at each point leaves:
 *
 * <ol>
 *   <li>{@link #begin} writes {@code <name>.undo}: the file's length and the old bytes of every
 *       region the update will overwrite, with a CRC; forces it and syncs the directory. A crash
 *       before this completes leaves no journal or one whose CRC fails: the VHD itself is
 *       untouched, and recovery discards the journal.
 *   <li>The caller overwrites the regions (and may append past the old end), then forces the VHD. A
 *       crash here leaves a valid journal: recovery truncates the VHD to its old length, writes the
 *       old bytes back, forces, and deletes the journal, so the update never happened.
 *   <li>{@link #commit} deletes the journal and syncs the directory: the update is durable.
 * </ol>
 *
 * <p>Every open of a VHD calls {@link #recover} first, so no reader sees a half-made update.
 */
final class UndoJournal {
  private static final long MAGIC = 0x58534d554e444f31L; // "XSMUNDO1"
  private final ImageStore store;
  private final String journalName;

  /** A region of the VHD about to be overwritten. */
  record Extent(long offset, int length) {}

  private UndoJournal(ImageStore store, String journalName) {
    this.store = store;
    this.journalName = journalName;
  }

  static String journalName(String vhdName) {
    return vhdName + ".undo";
  }

  static UndoJournal begin(ImageStore store, ImageFile vhd, List<Extent> extents)
      throws IOException {
    long size = vhd.size();
    int total = 8 + 8 + 4;
    for (Extent e : extents) {
      total += 12 + e.length();
    }
    ByteBuffer buf = ByteBuffer.allocate(total + 8);
    buf.putLong(MAGIC).putLong(size).putInt(extents.size());
    for (Extent e : extents) {
      buf.putLong(e.offset()).putInt(e.length());
      ByteBuffer old = ByteBuffer.allocate(e.length());
      if (e.offset() < size) {
        old.limit((int) Math.min(e.length(), size - e.offset()));
        vhd.readFully(old, e.offset());
      }
      buf.put(old.array());
    }
    CRC32 crc = new CRC32();
    crc.update(buf.array(), 0, total);
    buf.putLong(crc.getValue());
    buf.flip();
    String jn = journalName(vhd.name());
    if (store.exists(jn)) {
      store.delete(jn);
    }
    try (ImageFile j = store.create(jn)) {
      j.writeFully(buf, 0);
      j.force();
    }
    store.syncMetadata();
    return new UndoJournal(store, jn);
  }

  void commit() throws IOException {
    store.delete(journalName);
    store.syncMetadata();
  }

  /**
   * Undoes an interrupted update of {@code vhd}, if its journal is there and complete.
   *
   * @param vhd the VHD, open for writing
   * @return whether an update was rolled back
   */
  static boolean recover(ImageStore store, ImageFile vhd) throws IOException {
    String jn = journalName(vhd.name());
    byte[] data;
    try (ImageFile j = store.open(jn, false)) {
      long len = j.size();
      if (len > Integer.MAX_VALUE) {
        throw new VhdFormatException("undo journal " + store.describe(jn) + " is too large");
      }
      ByteBuffer b = ByteBuffer.allocate((int) len);
      j.readFully(b, 0);
      data = b.array();
    } catch (NoSuchFileException e) {
      return false;
    }
    List<Extent> extents = new ArrayList<>();
    List<byte[]> olds = new ArrayList<>();
    long oldSize = parse(data, extents, olds);
    if (oldSize < 0) {
      // Incomplete journal: the update had not started; nothing to undo.
      store.delete(jn);
      store.syncMetadata();
      return false;
    }
    vhd.truncate(oldSize);
    for (int i = 0; i < extents.size(); i++) {
      Extent e = extents.get(i);
      int n = (int) Math.max(0, Math.min(e.length(), oldSize - e.offset()));
      vhd.writeFully(ByteBuffer.wrap(olds.get(i), 0, n), e.offset());
    }
    vhd.force();
    store.delete(jn);
    store.syncMetadata();
    return true;
  }

  /** Parses a journal; returns the old file size, or -1 if the journal is incomplete. */
  private static long parse(byte[] data, List<Extent> extents, List<byte[]> olds) {
    if (data.length < 28) {
      return -1;
    }
    ByteBuffer b = ByteBuffer.wrap(data);
    CRC32 crc = new CRC32();
    crc.update(data, 0, data.length - 8);
    if (b.getLong(data.length - 8) != crc.getValue() || b.getLong() != MAGIC) {
      return -1;
    }
    long size = b.getLong();
    int n = b.getInt();
    for (int i = 0; i < n; i++) {
      long off = b.getLong();
      int len = b.getInt();
      byte[] old = new byte[len];
      b.get(old);
      extents.add(new Extent(off, len));
      olds.add(old);
    }
    return size;
  }
}
