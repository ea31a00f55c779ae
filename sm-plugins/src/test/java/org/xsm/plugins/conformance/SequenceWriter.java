package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;

/**
 * A writer thread whose writes can be told apart afterwards: write number {@code s} fills chunk
 * {@code s mod chunks} with a pattern naming {@code s}. Because the writes are issued one after the
 * other, any point-in-time image of the disk is the result of exactly the first {@code T} writes,
 * for some {@code T}; {@link #assertImage} finds {@code T} and checks every chunk against it.
 * Chunks are 4608 bytes (9 sectors), so they straddle 2 MiB boundaries now and then.
 */
final class SequenceWriter implements Runnable {
  static final int CHUNK = 4608;

  private final VdiDevice device;
  private final int chunks;
  private final AtomicLong started = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean stop;

  SequenceWriter(VdiDevice device, long sizeBytes) {
    this.device = device;
    this.chunks = Math.toIntExact(sizeBytes / CHUNK);
  }

  @Override
  public void run() {
    try {
      for (long s = 0; !stop; s++) {
        started.set(s + 1);
        device.write(ByteBuffer.wrap(content(s)), (s % chunks) * CHUNK);
        completed.set(s + 1);
      }
    } catch (SmException | RuntimeException e) {
      failure.set(e);
    }
  }

  void stop() {
    stop = true;
  }

  /** Writes issued so far (begun, maybe not returned). */
  long started() {
    return started.get();
  }

  /** Writes that have returned. */
  long completed() {
    return completed.get();
  }

  /** Waits until {@code more} further writes have returned; fails if the writer stalls or died. */
  void awaitProgress(long more, String when) throws InterruptedException {
    long target = completed.get() + more;
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (completed.get() < target) {
      checkAlive(when);
      if (System.nanoTime() > deadline) {
        fail("writer stalled at write " + completed.get() + " " + when);
      }
      Thread.sleep(1);
    }
    checkAlive(when);
  }

  void checkAlive(String when) {
    Throwable t = failure.get();
    if (t != null) {
      throw new AssertionError("write " + started.get() + " failed " + when + ": " + t, t);
    }
  }

  private byte[] content(long s) {
    byte[] b = new byte[CHUNK];
    ByteBuffer.wrap(b).putLong(s + 1);
    for (int i = 8; i < CHUNK; i++) {
      b[i] = (byte) (s * 131 + i * 7 + (s >>> 8) + 1);
    }
    return b;
  }

  /**
   * Asserts that {@code image} is the disk after exactly the first {@code T} writes, for a {@code
   * T} in {@code [atLeast, atMost]}, and returns {@code T}.
   */
  long assertImage(byte[] image, long atLeast, long atMost, String what) {
    long[] seen = new long[chunks];
    long last = -1;
    for (int c = 0; c < chunks; c++) {
      int off = c * CHUNK;
      if (ShadowDisk.isZero(image, off, off + CHUNK)) {
        seen[c] = -1;
        continue;
      }
      long s = ByteBuffer.wrap(image, off, 8).getLong() - 1;
      if (s < 0
          || s % chunks != c
          || !Arrays.equals(image, off, off + CHUNK, content(s), 0, CHUNK)) {
        fail(
            what
                + ": chunk "
                + c
                + " at byte "
                + off
                + " holds neither zeros nor one whole write"
                + " (torn or misplaced write; header says write "
                + s
                + ")");
      }
      seen[c] = s;
      last = Math.max(last, s);
    }
    if (!ShadowDisk.isZero(image, chunks * CHUNK, image.length)) {
      fail(what + ": bytes after the last chunk were written");
    }
    long t = last + 1;
    for (int c = 0; c < chunks; c++) {
      long expected = t - 1 >= c ? c + ((t - 1 - c) / chunks) * chunks : -1;
      if (seen[c] != expected) {
        fail(
            what
                + ": not a point-in-time image: the newest write is "
                + last
                + ", so chunk "
                + c
                + " should hold write "
                + expected
                + " but holds "
                + seen[c]
                + (seen[c] < expected ? " (a write before it was lost)" : ""));
      }
    }
    if (t < atLeast || t > atMost) {
      fail(
          what
              + ": holds the first "
              + t
              + " writes, but "
              + atLeast
              + " had returned before the operation began and "
              + atMost
              + " had begun when it returned");
    }
    return t;
  }
}
