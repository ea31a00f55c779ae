package org.xsm.plugins.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What read-ahead read for a chain and not yet handed over: ranges of its files ({@link Range}),
 * each queued, being read (by a read-ahead thread or by the caller, whoever claims it first), or
 * ready, looked up by file and offset when the caller's own read plan reads that file.
 *
 * <p>Staleness: the chain writes only its leaf (file 0), and every write ends with {@link
 * #dropFile}: the file's ranges are dropped and its epoch raised, so a read of it that was in
 * flight during the write is thrown away when it ends (its bytes may predate the write); a read
 * that starts after the write returns reads what the write left. The parents are read-only here;
 * what another handle writes into a parent (the collector's leaf-coalesce) is what the leaf
 * shadows, which the chain's plans never read from the parent. All state is guarded by the
 * instance; data is copied out under it, so a range is never released while copied from.
 */
final class Prefetched {
  private static final Logger LOG = Logger.getLogger(Prefetched.class.getName());

  private enum State {
    QUEUED,
    READING,
    READY,
    FAILED
  }

  /** A read ahead for bytes {@code windowFrom..windowTo} of the disk. */
  static final class Range {
    final FileRead read;
    final int file;
    final long offset;
    final int length;
    final long windowFrom;
    final long windowTo;
    private final long epoch;
    private State state = State.QUEUED;
    private boolean dropped;
    private ByteBuffer data;

    private Range(FileRead read, long windowFrom, long windowTo, long epoch) {
      this.read = read;
      this.file = read.file();
      this.offset = read.offset();
      this.length = read.length();
      this.windowFrom = windowFrom;
      this.windowTo = windowTo;
      this.epoch = epoch;
    }

    long end() {
      return offset + length;
    }
  }

  private final List<TreeMap<Long, Range>> byFile = new ArrayList<>();
  private final List<Long> epochs = new ArrayList<>();
  private long handedBytes;

  Prefetched(int files) {
    for (int i = 0; i < files; i++) {
      byFile.add(new TreeMap<>());
      epochs.add(0L);
    }
  }

  /**
   * Queues a range (one not overlapping any held range of its file), or returns null if one
   * overlaps.
   */
  synchronized Range add(FileRead r, long windowFrom, long windowTo) {
    TreeMap<Long, Range> m = byFile.get(r.file());
    Map.Entry<Long, Range> before = m.floorEntry(r.offset());
    Map.Entry<Long, Range> after = m.ceilingEntry(r.offset());
    if ((before != null && before.getValue().end() > r.offset())
        || (after != null && after.getKey() < r.end())) {
      return null;
    }
    Range range = new Range(r, windowFrom, windowTo, epochs.get(r.file()));
    m.put(r.offset(), range);
    return range;
  }

  /**
   * Reads a queued range unless someone claimed it already (read-ahead threads); returns whether
   * this call read it.
   */
  boolean readIfUnclaimed(Range r) {
    if (claim(r)) {
      read(r);
      return true;
    }
    return false;
  }

  private synchronized boolean claim(Range r) {
    if (r.state != State.QUEUED || r.dropped) {
      return false;
    }
    r.state = State.READING;
    return true;
  }

  private void read(Range r) {
    ByteBuffer b = ReadBuffers.take(r.length);
    boolean ok = false;
    try {
      r.read.reader().read(b.limit(r.length), r.offset);
      ok = true;
    } catch (IOException | RuntimeException e) {
      // The caller's own read of these bytes reports the failure, if it recurs.
      LOG.log(Level.FINE, "read-ahead of file " + r.file + " at " + r.offset + " failed", e);
    }
    boolean kept = false;
    synchronized (this) {
      if (ok && !r.dropped && r.epoch == epochs.get(r.file)) {
        r.data = b;
        r.state = State.READY;
        kept = true;
      } else {
        r.state = State.FAILED;
        byFile.get(r.file).remove(r.offset, r);
      }
      notifyAll();
    }
    if (!kept) {
      ReadBuffers.release(b);
    }
  }

  /**
   * Copies into {@code dst} what a held range has of file {@code file} from {@code offset} on,
   * waiting for a range being read and reading a queued one itself, and returns the bytes copied;
   * or, if no range holds the byte at {@code offset}, returns minus the bytes from there to the
   * next held range (or to the end of {@code dst}), which the caller reads itself.
   */
  int copy(int file, ByteBuffer dst, long offset) throws IOException {
    while (true) {
      Range claimed = null;
      synchronized (this) {
        TreeMap<Long, Range> m = byFile.get(file);
        Map.Entry<Long, Range> e = m.floorEntry(offset);
        Range r = e == null ? null : e.getValue();
        if (r == null || r.end() <= offset) {
          Long next = m.higherKey(offset);
          long gap = next == null ? dst.remaining() : Math.min(next - offset, dst.remaining());
          return (int) -gap;
        }
        if (r.state == State.READY) {
          int n = (int) Math.min(dst.remaining(), r.end() - offset);
          int from = (int) (offset - r.offset);
          dst.put(r.data.slice(from, n));
          handedBytes += n;
          return n;
        }
        if (r.state == State.READING) {
          waitInterruptibly();
          continue;
        }
        if (r.state == State.QUEUED) {
          r.state = State.READING;
          claimed = r;
        }
        // FAILED ranges are removed when they fail; loop to look again.
      }
      if (claimed != null) {
        read(claimed);
      }
    }
  }

  private void waitInterruptibly() throws IOException {
    try {
      wait();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted waiting for read-ahead");
    }
  }

  /** Drops every range of {@code file} and discards any read of it now in flight (a write). */
  synchronized void dropFile(int file) {
    epochs.set(file, epochs.get(file) + 1);
    dropWhere(file, r -> true);
  }

  /** Drops the ranges of windows that do not overlap {@code from..to} of the disk. */
  synchronized void dropOutside(long from, long to) {
    for (int f = 0; f < byFile.size(); f++) {
      dropWhere(f, r -> r.windowTo <= from || r.windowFrom >= to);
    }
  }

  /** Drops everything (closing). */
  synchronized void dropAll() {
    for (int f = 0; f < byFile.size(); f++) {
      dropWhere(f, r -> true);
    }
  }

  private void dropWhere(int file, java.util.function.Predicate<Range> which) {
    Iterator<Range> it = byFile.get(file).values().iterator();
    while (it.hasNext()) {
      Range r = it.next();
      if (!which.test(r)) {
        continue;
      }
      it.remove();
      r.dropped = true;
      if (r.data != null) {
        ReadBuffers.release(r.data);
        r.data = null;
      }
    }
  }

  /** Bytes handed to the caller so far. */
  synchronized long handedBytes() {
    return handedBytes;
  }
}
