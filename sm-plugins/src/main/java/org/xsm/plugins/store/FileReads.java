package org.xsm.plugins.store;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Puts the reads of a read-ahead window in the order that reads cold storage fastest: by file, and
 * in each file by offset, with reads of one file that overlap or lie at most a gap apart made one
 * (the gap is read too; within a layer it is usually a hole or a sector bitmap, cheaper than a
 * second device request).
 *
 * <p>Why: read in disk order, a chain visits every layer in turn, so the reads in flight are spread
 * over all the files. Measured cold on the bench's depth-10 VHD chain of 64 KiB runs (4,096 runs,
 * every one its own device request), 16 buffered reads in flight: about 500 MB/s in disk order,
 * about 900 in file order by windows of 4 MiB of the disk (the ordering alone; in {@link
 * ReadAhead}, whose gain came from keeping reads in flight, the two orders were within the noise of
 * a shared machine).
 */
public final class FileReads {
  private static final Comparator<FileRead> FILE_ORDER =
      Comparator.comparingInt(FileRead::file).thenComparingLong(FileRead::offset);

  private FileReads() {}

  /**
   * The reads sorted by file and offset, those of one file that overlap or are at most {@code
   * maxGap} bytes apart merged as long as the merged read is at most {@code maxLength} bytes (a
   * read longer than that on its own is kept as it is); what overlaps a read before it and was not
   * merged is trimmed to what that read leaves out, so no byte is read twice.
   */
  public static List<FileRead> ordered(List<FileRead> reads, int maxGap, int maxLength) {
    List<FileRead> sorted = new ArrayList<>(reads);
    sorted.sort(FILE_ORDER);
    List<FileRead> out = new ArrayList<>(sorted.size());
    FileRead cur = null;
    for (FileRead r : sorted) {
      if (cur != null
          && cur.file() == r.file()
          && r.offset() - cur.end() <= maxGap
          && Math.max(cur.end(), r.end()) - cur.offset() <= maxLength) {
        long end = Math.max(cur.end(), r.end());
        cur = new FileRead(cur.file(), cur.offset(), (int) (end - cur.offset()), cur.reader());
        continue;
      }
      if (cur != null && cur.file() == r.file() && r.offset() < cur.end()) {
        // Overlaps, but too long to merge: only what cur does not read.
        if (r.end() <= cur.end()) {
          continue;
        }
        r = new FileRead(r.file(), cur.end(), (int) (r.end() - cur.end()), r.reader());
      }
      if (cur != null) {
        out.add(cur);
      }
      cur = r;
    }
    if (cur != null) {
      out.add(cur);
    }
    return out;
  }
}
