package org.xsm.plugins.filesr;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.BitSet;
import java.util.zip.CRC32;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * A VDI's changed-block-tracking log, {@code <uuid>.cbtlog}: the blocks (64 KiB) written since the
 * snapshot named by {@link #parent}, and whether the log is consistent. A log is marked
 * inconsistent while its VDI is active for writing and consistent again when it is deactivated, so
 * after a crash the changes of that session are known to be incomplete and queries refuse.
 *
 * <p>Layout: magic, version, consistent flag, virtual size, block size, parent UUID (or empty),
 * bitmap, CRC32; always replaced whole (temporary file, force, rename, directory sync).
 *
 * <p>On a snapshot S of VDI L: L's log is copied to {@code S.cbtlog} (changes up to S), and L gets
 * a fresh log whose parent is S. The changes from snapshot A to B are the union of the logs on the
 * parent path from B back to A, A's excluded.
 */
final class CbtLog {
  static final int BLOCK_SIZE = 64 * 1024;
  private static final long MAGIC = 0x58534d4342543031L; // "XSMCBT01"

  final String parent;
  final long virtualSizeBytes;
  final boolean consistent;
  final BitSet changed;

  CbtLog(String parent, long virtualSizeBytes, boolean consistent, BitSet changed) {
    this.parent = parent;
    this.virtualSizeBytes = virtualSizeBytes;
    this.consistent = consistent;
    this.changed = changed;
  }

  static String fileOf(String uuid) {
    return uuid + ".cbtlog";
  }

  CbtLog withConsistent(boolean c) {
    return new CbtLog(parent, virtualSizeBytes, c, changed);
  }

  static void mark(BitSet changed, long offset, long length) {
    if (length <= 0) {
      return;
    }
    changed.set((int) (offset / BLOCK_SIZE), (int) ((offset + length - 1) / BLOCK_SIZE) + 1);
  }

  void write(ImageStore store, String uuid) throws IOException {
    byte[] bits = changed.toByteArray();
    byte[] p = (parent == null ? "" : parent).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(8 + 4 + 1 + 8 + 4 + 4 + p.length + 4 + bits.length + 8);
    b.putLong(MAGIC).putInt(1).put((byte) (consistent ? 1 : 0)).putLong(virtualSizeBytes);
    b.putInt(BLOCK_SIZE).putInt(p.length).put(p).putInt(bits.length).put(bits);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, b.position());
    b.putLong(crc.getValue()).flip();
    String name = fileOf(uuid);
    String tmp = "." + name + ".tmp";
    if (store.exists(tmp)) {
      store.delete(tmp);
    }
    try (ImageFile f = store.create(tmp)) {
      f.writeFully(b, 0);
      f.force();
    }
    store.rename(tmp, name);
    store.syncMetadata();
  }

  /**
   * The log of a VDI, or null if it has none.
   *
   * @throws IOException if the log is damaged
   */
  static CbtLog read(ImageStore store, String uuid) throws IOException {
    byte[] data;
    try (ImageFile f = store.open(fileOf(uuid), false)) {
      ByteBuffer b = ByteBuffer.allocate((int) f.size());
      f.readFully(b, 0);
      data = b.array();
    } catch (NoSuchFileException e) {
      return null;
    }
    CRC32 crc = new CRC32();
    ByteBuffer b = ByteBuffer.wrap(data);
    if (data.length < 41) {
      throw new IOException("CBT log " + store.describe(fileOf(uuid)) + " is truncated");
    }
    crc.update(data, 0, data.length - 8);
    if (b.getLong(data.length - 8) != crc.getValue() || b.getLong() != MAGIC) {
      throw new IOException("CBT log " + store.describe(fileOf(uuid)) + " is damaged");
    }
    b.getInt();
    boolean consistent = b.get() == 1;
    long size = b.getLong();
    b.getInt();
    byte[] p = new byte[b.getInt()];
    b.get(p);
    byte[] bits = new byte[b.getInt()];
    b.get(bits);
    String parent = new String(p, java.nio.charset.StandardCharsets.US_ASCII);
    return new CbtLog(parent.isEmpty() ? null : parent, size, consistent, BitSet.valueOf(bits));
  }
}
