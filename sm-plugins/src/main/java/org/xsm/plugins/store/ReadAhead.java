package org.xsm.plugins.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Read-ahead for a chain of several files read sequentially: the kernel reads ahead in one file
 * read in order, but a chain whose layers each hold scattered runs reads every file at a stride,
 * which the kernel takes for random reads: each run is then a synchronous device read, and a read
 * of the disk waits for its slowest run. Once reads follow each other, the next {@link #WINDOW} of
 * the disk is planned and its file reads are issued at once, file by file and in offset order
 * within each file, close ones merged ({@link FileReads}), up to {@link #THREADS} in flight (for
 * every chain together), into buffers that are handed to the caller's reads ({@link Prefetched}: a
 * read of the chain takes its bytes from there, waits for a range being read, and reads a range
 * still queued itself). A write drops what was read of the leaf, and throws away the leaf's reads
 * in flight.
 *
 * <p>In the page cache, read-ahead is only a second copy: a window during which the process read
 * less than a quarter of the window's bytes from storage ({@code read_bytes} of {@code
 * /proc/self/io}: what reads made the kernel fetch) suspends read-ahead for the next {@link
 * #SUSPEND_WINDOWS} windows, after which one window probes again. Timing the reads cannot tell: on
 * a busy machine, 16 threads copying from the page cache take as long per read as the device. A
 * store without the kernel's page cache (NFS through its own client) never shows storage reads, so
 * read-ahead stays suspended there. Where {@code /proc/self/io} cannot be read, there is no
 * read-ahead. One window per chain is in flight, or, while windows are read from storage, as many
 * as keep the reads up to {@link #LEAD} ahead of the caller: with one window at a time, the reads
 * in flight dwindled at the end of every window and the next waited for the caller. Reading the
 * windows with O_DIRECT (less CPU: no page-cache fill) was measured slower on the clock and dropped
 * (docs/ARCHITECTURE.md, "Read-ahead of chains").
 *
 * <p>{@link #close} drops the reads that have not started and waits for those that have, so that
 * none reads a closed file. A failed read is only logged: the caller's own read of those bytes
 * reports it.
 */
public final class ReadAhead {
  private static final Logger LOG = Logger.getLogger(ReadAhead.class.getName());

  /** Bytes of the disk planned and read ahead at a time. */
  public static final int WINDOW = 4 << 20;

  /** How far ahead of the caller's reads read-ahead goes: windows in flight at most. */
  static final long LEAD = 32 << 20;

  /** Reads in flight at once, for every chain together. */
  static final int THREADS = 16;

  static final int SUSPEND_WINDOWS = 16;

  private static final Path PROC_IO = Path.of("/proc/self/io");

  /** How far a read may start from the end of the last one and still count as sequential. */
  private static final long SLACK = 1 << 20;

  /**
   * The window is planned a MiB at a time, so that no planned read is larger than this; merged
   * reads are at most that long too (the buffers they are read into, {@link AlignedBuffers}).
   */
  private static final int MAX_READ = 1 << 20;

  /**
   * Reads of one file at most this far apart are made one ({@link FileReads}): a VHD block's data
   * starts 64 KiB after the previous block's end (its bitmap, and padding that is a hole).
   */
  static final int MERGE_GAP = 64 * 1024;

  private static final ExecutorService POOL = ParallelReads.daemonPool("read-ahead-", THREADS);

  /** Plans the file reads of {@code length} bytes of the disk at {@code offset}. */
  @FunctionalInterface
  public interface Planner {
    List<FileRead> plan(long offset, int length) throws IOException;
  }

  private final Planner planner;
  private final java.util.function.LongSupplier diskBytes;
  private final Prefetched prefetched;

  private long lastEnd = -1;
  private int streak;
  private long aheadTo;
  private long suspendedUntil;

  /**
   * Whether the last window to end was read from storage: only then are several windows let in
   * flight (up to {@link #LEAD} ahead); otherwise one, so that a probe of a chain in the page cache
   * copies one window, not the lead.
   */
  private boolean fromStorage;

  private int inFlight;
  private boolean closed;

  /** Reads started and not ended. */
  private int active;

  public ReadAhead(Planner planner, java.util.function.LongSupplier diskBytes, int layers) {
    this.planner = planner;
    this.diskBytes = diskBytes;
    this.prefetched = new Prefetched(layers);
  }

  /**
   * Called before each read of the disk; starts the next window when reads are sequential. Returns
   * whether they are (the third in a row or later): such a read is best done on the caller's thread
   * alone, its runs being in the page cache or on their way there.
   */
  public boolean onRead(long offset, int length) {
    List<Span> start = new ArrayList<>(1);
    synchronized (this) {
      boolean sequential = lastEnd >= 0 && Math.abs(offset - lastEnd) <= SLACK;
      lastEnd = offset + length;
      streak = sequential ? streak + 1 : 0;
      if (!sequential) {
        aheadTo = 0;
      }
      prefetched.dropOutside(offset, offset + length + LEAD + 2L * WINDOW);
      if (closed || streak < 2 || offset < suspendedUntil) {
        return streak >= 2;
      }
      long limit = Math.min(diskBytes.getAsLong(), offset + length + LEAD);
      long windows = fromStorage ? LEAD / WINDOW : 1;
      while (inFlight < windows) {
        long from = Math.max(aheadTo, offset + length);
        long to = Math.min(limit, from + WINDOW);
        if (to - from < WINDOW / 2) {
          break;
        }
        inFlight++;
        aheadTo = to;
        start.add(new Span(from, to));
      }
    }
    for (Span s : start) {
      POOL.execute(() -> planAndStart(s.from(), s.to()));
    }
    return true;
  }

  /** Bytes {@code from..to} of the disk. */
  private record Span(long from, long to) {}

  /**
   * Plans the window (on a pool thread: planning may read metadata, such as VHD sector bitmaps,
   * which is then cached for the caller's own reads) and issues its reads.
   */
  private void planAndStart(long from, long to) {
    long storageBefore = storageReadBytes();
    List<FileRead> reads = new ArrayList<>();
    synchronized (this) {
      if (closed || storageBefore < 0) {
        inFlight--;
        notifyAll();
        if (storageBefore < 0) {
          suspendedUntil = Long.MAX_VALUE;
        }
        return;
      }
      active++;
    }
    try {
      for (long at = from; at < to; at += MAX_READ) {
        reads.addAll(planner.plan(at, (int) Math.min(MAX_READ, to - at)));
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.FINE, "read-ahead not planned", e);
      reads.clear();
    } finally {
      ended();
    }
    if (reads.isEmpty()) {
      synchronized (this) {
        inFlight--;
        notifyAll();
      }
      return;
    }
    List<FileRead> ordered = FileReads.ordered(reads, MERGE_GAP, MAX_READ);
    Window w = new Window(to, ordered.size(), storageBefore);
    for (FileRead r : ordered) {
      Prefetched.Range range = prefetched.add(r, from, to);
      POOL.execute(() -> w.done(range != null && read(range) ? r.length() : 0));
    }
  }

  private synchronized void ended() {
    if (--active == 0) {
      notifyAll();
    }
  }

  /** The reads of one window: the last to end decides on suspending read-ahead. */
  private final class Window {
    private final long end;
    private final long storageBefore;
    private int left;
    private long bytes;

    Window(long end, int reads, long storageBefore) {
      this.end = end;
      this.left = reads;
      this.storageBefore = storageBefore;
    }

    void done(long readBytes) {
      synchronized (ReadAhead.this) {
        bytes += readBytes;
        if (--left > 0) {
          return;
        }
      }
      long now = storageReadBytes();
      long stored = now < 0 ? 0 : now - storageBefore;
      synchronized (ReadAhead.this) {
        inFlight--;
        ReadAhead.this.notifyAll();
        fromStorage = stored >= bytes / 4;
        if (!fromStorage) {
          suspendedUntil = end + (long) SUSPEND_WINDOWS * WINDOW;
        }
      }
    }
  }

  /** Reads a range on a read-ahead thread, unless closed or claimed by the caller already. */
  private boolean read(Prefetched.Range r) {
    synchronized (this) {
      if (closed) {
        return false;
      }
      active++;
    }
    try {
      return prefetched.readIfUnclaimed(r);
    } finally {
      ended();
    }
  }

  /**
   * Fills {@code dst} with {@code dst.remaining()} bytes at {@code offset} of layer {@code layer}:
   * from what read-ahead holds of it, the rest by {@code reader}.
   */
  public void readLayer(int layer, ByteBuffer dst, long offset, FileRead.Reader reader)
      throws IOException {
    long at = offset;
    while (dst.hasRemaining()) {
      int n = prefetched.copy(layer, dst, at);
      if (n < 0) {
        ByteBuffer part = dst.slice().limit(-n);
        reader.read(part, at);
        dst.position(dst.position() - n);
        n = -n;
      }
      at += n;
    }
  }

  /** After a write of layer {@code layer}: what was read of it ahead is stale. */
  public void written(int layer) {
    prefetched.dropFile(layer);
  }

  /** Waits until no window is being planned or read (for tests: a condition to wait on). */
  public synchronized void awaitIdle() throws InterruptedException {
    while (inFlight > 0 || active > 0) {
      wait();
    }
  }

  /** Bytes read ahead and handed to the caller's reads so far. */
  public long handedBytes() {
    return prefetched.handedBytes();
  }

  /** Bytes this process has made the kernel read from storage so far, or -1 if unknown. */
  static long storageReadBytes() {
    try {
      for (String line : Files.readAllLines(PROC_IO)) {
        if (line.startsWith("read_bytes:")) {
          return Long.parseLong(line.substring("read_bytes:".length()).trim());
        }
      }
      return -1;
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.FINE, "no I/O accounting in " + PROC_IO, e);
      return -1;
    }
  }

  /** Stops read-ahead: reads not started are dropped; returns once the started ones ended. */
  public void close() {
    boolean interrupted = false;
    synchronized (this) {
      closed = true;
      while (active > 0) {
        try {
          wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    prefetched.dropAll();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
