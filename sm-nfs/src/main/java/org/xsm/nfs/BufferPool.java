package org.xsm.nfs;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Direct buffers of one size, reused. WRITE data is copied once, into one of these, and kept there
 * until COMMIT: the socket sends it without the JDK's extra copy of heap buffers, and a stream of
 * writes makes no garbage (a heap copy per write would be a humongous allocation per MiB).
 * Thread-safe.
 */
final class BufferPool {
  /** Most buffers kept for reuse per size; more may be in use, they are then left to the GC. */
  private static final int MAX_POOLED = 96;

  private static final Map<Integer, BufferPool> POOLS = new ConcurrentHashMap<>();

  private final int size;
  private final ConcurrentLinkedQueue<ByteBuffer> free = new ConcurrentLinkedQueue<>();
  private final AtomicInteger pooled = new AtomicInteger();

  private BufferPool(int size) {
    this.size = size;
  }

  /** The pool of buffers of {@code size} bytes. */
  static BufferPool of(int size) {
    return POOLS.computeIfAbsent(size, BufferPool::new);
  }

  /** A cleared buffer of this pool's size. */
  ByteBuffer take() {
    ByteBuffer b = free.poll();
    if (b == null) {
      return ByteBuffer.allocateDirect(size);
    }
    pooled.decrementAndGet();
    return b.clear();
  }

  /** Returns a buffer taken from this pool; it must no longer be used by the caller. */
  void give(ByteBuffer b) {
    if (b.capacity() == size && b.isDirect() && pooled.incrementAndGet() <= MAX_POOLED) {
      free.offer(b);
    } else if (b.capacity() == size && b.isDirect()) {
      pooled.decrementAndGet();
    }
  }
}
