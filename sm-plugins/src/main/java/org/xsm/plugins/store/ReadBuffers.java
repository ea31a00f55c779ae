package org.xsm.plugins.store;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Direct buffers that read-ahead reads into, kept for reuse: allocating one per read would zero it
 * each time and leave its native memory to the garbage collector; a heap buffer would make every
 * file read copy through a temporary direct buffer. Capacities go by {@link #GRAIN}; at most {@link
 * #KEPT_BYTES} of released buffers are kept, the rest left to the collector.
 */
final class ReadBuffers {
  static final int GRAIN = 64 * 1024;

  /** Largest buffer: a merged read-ahead read is at most 1 MiB. */
  static final int MAX_BYTES = 1 << 20;

  private static final long KEPT_BYTES = 96L << 20;

  private static final ArrayDeque<ByteBuffer>[] FREE = newClasses();
  private static long keptBytes;

  private ReadBuffers() {}

  @SuppressWarnings("unchecked")
  private static ArrayDeque<ByteBuffer>[] newClasses() {
    ArrayDeque<ByteBuffer>[] c = new ArrayDeque[MAX_BYTES / GRAIN + 1];
    for (int i = 0; i < c.length; i++) {
      c[i] = new ArrayDeque<>();
    }
    return c;
  }

  /** A cleared buffer of at least {@code bytes} (at most {@link #MAX_BYTES}). */
  static ByteBuffer take(int bytes) {
    if (bytes <= 0 || bytes > MAX_BYTES) {
      throw new IllegalArgumentException("read buffer of " + bytes + " bytes");
    }
    int c = (bytes + GRAIN - 1) / GRAIN;
    synchronized (ReadBuffers.class) {
      ByteBuffer b = FREE[c].pollFirst();
      if (b != null) {
        keptBytes -= b.capacity();
        return b.clear();
      }
    }
    return ByteBuffer.allocateDirect(c * GRAIN);
  }

  /** Gives a buffer from {@link #take} back; it must not be used afterwards. */
  static void release(ByteBuffer b) {
    synchronized (ReadBuffers.class) {
      if (keptBytes + b.capacity() <= KEPT_BYTES) {
        FREE[b.capacity() / GRAIN].addFirst(b);
        keptBytes += b.capacity();
      }
    }
  }
}
