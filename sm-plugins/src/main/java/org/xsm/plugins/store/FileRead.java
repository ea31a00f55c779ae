package org.xsm.plugins.store;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A read of {@code length} bytes at {@code offset} of one of a chain's files ({@code file}: its
 * layer index, leaf 0), done by {@code reader}: what read-ahead fetches into the page cache. The
 * reader reads any range of that file, so reads of one file that lie close together can be made one
 * ({@link FileReads}).
 */
public record FileRead(int file, long offset, int length, Reader reader) {
  /** Reads {@code dst.remaining()} bytes at {@code offset} of the file. */
  @FunctionalInterface
  public interface Reader {
    void read(ByteBuffer dst, long offset) throws IOException;
  }

  public FileRead {
    if (file < 0 || offset < 0 || length <= 0) {
      throw new IllegalArgumentException(
          "file read " + file + " at " + offset + " of " + length + " bytes");
    }
  }

  /** The offset just past the read. */
  public long end() {
    return offset + length;
  }
}
