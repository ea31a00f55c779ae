package org.xsm.plugins.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * ^ * An image and its parents opened as one disk, whatever the format: what tools, copies and
 * transfers read and write. Same contract as the format's own chain ({@code VhdChain}, {@code
 * Qcow2Chain}): reads may be concurrent, writes go to the leaf, {@link #flush} makes them durable.
 */
public interface DiskChain extends Closeable {
  long virtualSizeBytes();

  /** Files in the chain (1 without parent). */
  int depth();

  /** Reads {@code dst.remaining()} bytes at {@code offset}. */
  void read(ByteBuffer dst, long offset) throws IOException;

  /** Writes {@code src.remaining()} bytes at {@code offset} into the leaf. */
  void write(ByteBuffer src, long offset) throws IOException;

  /** Makes earlier writes durable. */
  void flush() throws IOException;
}
