package org.xsm.plugins.store;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One open file of an {@link ImageStore}: positional I/O, size, truncate and force. Positional
 * reads and writes may run concurrently from several threads; they do not move any shared position.
 */
public interface ImageFile extends Closeable {

  /** The name of the file within its store. */
  String name();

  /**
   * Reads up to {@code dst.remaining()} bytes at {@code position}.
   *
   * @return the number of bytes read, or -1 at end of file
   */
  int read(ByteBuffer dst, long position) throws IOException;

  /**
   * Writes up to {@code src.remaining()} bytes at {@code position}, growing the file if needed.
   *
   * @return the number of bytes written
   * @throws java.nio.channels.NonWritableChannelException if the file was opened read-only
   */
  int write(ByteBuffer src, long position) throws IOException;

  /** The current size in bytes. */
  long size() throws IOException;

  /** Sets the size; growing leaves a hole that reads as zeros. */
  void truncate(long sizeBytes) throws IOException;

  /** Makes all data written so far durable (fdatasync). */
  void force() throws IOException;

  /**
   * Reads exactly {@code dst.remaining()} bytes.
   *
   * @throws EOFException if the file ends first
   */
  default void readFully(ByteBuffer dst, long position) throws IOException {
    long pos = position;
    while (dst.hasRemaining()) {
      int n = read(dst, pos);
      if (n < 0) {
        throw new EOFException(
            "unexpected end of " + name() + " at byte " + pos + " (size " + size() + ")");
      }
      pos += n;
    }
  }

  /** Writes all of {@code src.remaining()} bytes. */
  default void writeFully(ByteBuffer src, long position) throws IOException {
    long pos = position;
    while (src.hasRemaining()) {
      pos += write(src, pos);
    }
  }
}
