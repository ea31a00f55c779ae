package org.xsm.plugins.filesr;

import java.io.InterruptedIOException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * Paces the collector's copies so that running disks keep their latency: at most the configured
 * rate, minus what the SR's devices read and wrote over the last moments (never less than a quarter
 * of the rate). Each copied piece is paid for after it is copied: the collector sleeps until its
 * average rate is back under the budget. Sleeping is pacing, never a way to order events.
 *
 * <p>Thread-safety: {@link #foreground} is called from any I/O thread; {@link #paid} from the
 * collector's thread only.
 */
final class GcThrottle {
  private static final long WINDOW_NANOS = 500_000_000L;

  private final long rateBytesPerSecond;
  private final LongAdder foregroundBytes = new LongAdder();
  private long windowStart = System.nanoTime();
  private long windowGcBytes;
  private long windowFgStart;
  private double foregroundRate;

  GcThrottle(long rateBytesPerSecond) {
    this.rateBytesPerSecond = rateBytesPerSecond;
  }

  /** Counts foreground I/O (reads and writes of the SR's devices). */
  void foreground(long bytes) {
    foregroundBytes.add(bytes);
  }

  /** The configured rate in bytes/s; 0 for unlimited. */
  long rateBytesPerSecond() {
    return rateBytesPerSecond;
  }

  /** The rate the collector may use now. */
  synchronized long effectiveRate() {
    if (rateBytesPerSecond <= 0) {
      return Long.MAX_VALUE;
    }
    long left = rateBytesPerSecond - (long) foregroundRate;
    return Math.max(rateBytesPerSecond / 4, left);
  }

  /**
   * Records {@code bytes} copied and waits until the collector is back within its budget.
   *
   * @throws InterruptedIOException when {@code abort} says so (checked at least every 50 ms)
   */
  void paid(long bytes, BooleanSupplier abort) throws InterruptedIOException {
    if (rateBytesPerSecond <= 0) {
      return;
    }
    long waitNanos;
    synchronized (this) {
      long now = System.nanoTime();
      if (now - windowStart > WINDOW_NANOS) {
        long fg = foregroundBytes.sum();
        double seconds = (now - windowStart) / 1e9;
        foregroundRate = (fg - windowFgStart) / seconds;
        windowFgStart = fg;
        windowStart = now;
        windowGcBytes = 0;
      }
      windowGcBytes += bytes;
      long due = windowStart + (long) (windowGcBytes * 1e9 / effectiveRate());
      waitNanos = due - now;
    }
    long until = System.nanoTime() + waitNanos;
    while (true) {
      if (abort.getAsBoolean()) {
        throw new InterruptedIOException("garbage collection aborted");
      }
      long left = until - System.nanoTime();
      if (left <= 0) {
        return;
      }
      try {
        Thread.sleep(Math.min(50, Math.max(1, left / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("garbage collection interrupted");
      }
    }
  }
}
