package org.xsm.plugins.filesr;

import java.io.InterruptedIOException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * Paces the collector's copies so that running disks keep their latency: the configured rate while
 * the SR's devices are idle, a quarter of it while they did I/O in the last half second (measured:
 * at the full rate, the 4 KiB writes of running disks had a p99 several times their own while a
 * copy ran; at a quarter, within their usual spread). Each copied piece (at most 256 KiB) is paid
 * for after it is copied: the collector sleeps until its average rate is back under the budget, so
 * its I/O comes in small, spread-out pieces. Sleeping is pacing, never a way to order events.
 *
 * <p>Thread-safety: {@link #foreground} is called from any I/O thread; {@link #paid} from the
 * collector's thread only.
 */
final class GcThrottle {
  /** Where the throttle reads the time and waits; tests give one whose waits advance its time. */
  interface Clock {
    long nanoTime();

    void sleepNanos(long nanos) throws InterruptedException;

    Clock SYSTEM =
        new Clock() {
          @Override
          public long nanoTime() {
            return System.nanoTime();
          }

          @Override
          public void sleepNanos(long nanos) throws InterruptedException {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
          }
        };
  }

  private static final long WINDOW_NANOS = 500_000_000L;
  private static final long MIN_SLEEP_NANOS = 5_000_000L;

  private final long rateBytesPerSecond;
  private final LongAdder foregroundBytes = new LongAdder();
  private final Clock clock;
  private long windowStart;
  private long windowGcBytes;
  private long windowFgStart;
  private double foregroundRate;

  GcThrottle(long rateBytesPerSecond) {
    this(rateBytesPerSecond, Clock.SYSTEM);
  }

  GcThrottle(long rateBytesPerSecond, Clock clock) {
    this.rateBytesPerSecond = rateBytesPerSecond;
    this.clock = clock;
    this.windowStart = clock.nanoTime();
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
    return foregroundRate > 0 ? Math.max(1, rateBytesPerSecond / 4) : rateBytesPerSecond;
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
      long now = clock.nanoTime();
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
    if (waitNanos < MIN_SLEEP_NANOS) {
      return; // a small debt is carried to the next piece: sleeps shorter than this overshoot
    }
    long until = clock.nanoTime() + waitNanos;
    while (true) {
      if (abort.getAsBoolean()) {
        throw new InterruptedIOException("garbage collection aborted");
      }
      long left = until - clock.nanoTime();
      if (left <= 0) {
        return;
      }
      try {
        clock.sleepNanos(Math.min(50_000_000L, Math.max(1_000_000L, left)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("garbage collection interrupted");
      }
    }
  }
}
