package org.xsm.plugins.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.xsm.plugins.store.ImageFile;

/**
 * The header of an open qcow2 file and its updates in place: each is one write within the first
 * 512-byte sector, forced, so the file holds the old or the new header, never a mix. The dirty bit
 * is set once per session before the first metadata change and cleared on a clean close.
 *
 * <p>Not thread-safe: the image calls it under its own lock.
 */
final class HeaderFile implements ClusterAllocator.Header {
  private static final int HEADER_SECTOR = 512;

  private final ImageFile file;
  private final String where;
  private Qcow2Header header;

  HeaderFile(ImageFile file, String where, Qcow2Header header) {
    this.file = file;
    this.where = where;
    this.header = header;
  }

  @Override
  public Qcow2Header get() {
    return header;
  }

  @Override
  public void setDirtyBit() throws IOException {
    if (!header.isDirty()) {
      writeIncompatible(header.incompatibleFeatures() | Qcow2Header.INCOMPAT_DIRTY);
    }
  }

  /** Clears the dirty bit (a clean close, or the repair once the leaks are released). */
  void clearDirtyBit() throws IOException {
    if (header.isDirty()) {
      writeIncompatible(header.incompatibleFeatures() & ~Qcow2Header.INCOMPAT_DIRTY);
    }
  }

  private void writeIncompatible(long bits) throws IOException {
    file.writeFully(
        ByteBuffer.allocate(8).putLong(0, bits), Qcow2Header.INCOMPATIBLE_FEATURES_OFFSET);
    file.force();
    header = header.withIncompatibleFeatures(bits);
  }

  @Override
  public void writeRefcountTableFields(Qcow2Header h) throws IOException {
    writeFields(h, 48, 12);
  }

  /**
   * Writes the size and L1 fields only (bytes 24..47; everything else, such as where a file made by
   * another tool keeps its backing name, unchanged), forced.
   */
  void writeSizeFields(Qcow2Header h) throws IOException {
    writeFields(h, 24, 24);
  }

  private void writeFields(Qcow2Header h, int from, int length) throws IOException {
    file.writeFully(ByteBuffer.wrap(h.encode(), from, length), from);
    file.force();
    header = h;
  }

  /** Rewrites the header area (one write within the first sector), forced. */
  void rewrite(Qcow2Header h) throws IOException {
    byte[] bytes = h.encode();
    if (bytes.length > HEADER_SECTOR) {
      throw Qcow2Header.bad(
          where, "header of " + bytes.length + " bytes cannot be rewritten atomically (limit 512)");
    }
    file.writeFully(ByteBuffer.wrap(bytes), 0);
    file.force();
    header = h;
  }
}
