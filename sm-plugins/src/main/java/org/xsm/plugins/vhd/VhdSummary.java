package org.xsm.plugins.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * A VHD's identity without its block table: footer, dynamic header (null for fixed disks) and file
 * size. Reading it costs three small reads whatever the disk size, which is what listing an SR's
 * tree needs; {@link VhdImage#open} validates the whole file and is what I/O needs.
 *
 * <p>The footer is the primary one, or the copy at offset 0 when the primary is damaged (as open
 * recovers it); a pending undo journal is rolled back first, so the summary matches what the next
 * open will see.
 */
public record VhdSummary(VhdFooter footer, DynamicHeader header, long fileSizeBytes) {

  /**
   * The name of the undo journal an interrupted in-place update of {@code vhdName} leaves; while it
   * exists, the next open (or {@link #read}) rolls the update back first.
   */
  public static String undoJournalName(String vhdName) {
    return UndoJournal.journalName(vhdName);
  }

  public static VhdSummary read(ImageStore store, String name) throws IOException {
    if (store.exists(UndoJournal.journalName(name))) {
      VhdImage.open(store, name, false).close();
    }
    String where = store.describe(name);
    try (ImageFile f = store.open(name, false)) {
      long size = f.size();
      if (size < VhdFooter.SIZE) {
        throw new VhdFormatException("VHD " + where + " is " + size + " bytes long");
      }
      VhdFooter footer;
      try {
        footer =
            VhdFooter.decode(bytes(f, size - VhdFooter.SIZE, VhdFooter.SIZE), "footer in " + where);
      } catch (VhdFormatException e) {
        footer =
            VhdFooter.decode(bytes(f, 0, VhdFooter.SIZE), "backup footer (offset 0) in " + where);
      }
      DynamicHeader header =
          footer.diskType() == DiskType.FIXED
              ? null
              : DynamicHeader.decode(
                  bytes(f, DynamicHeader.OFFSET, DynamicHeader.SIZE), "dynamic header in " + where);
      return new VhdSummary(footer, header, size);
    }
  }

  private static byte[] bytes(ImageFile f, long off, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len);
    f.readFully(b, off);
    return b.array();
  }
}
