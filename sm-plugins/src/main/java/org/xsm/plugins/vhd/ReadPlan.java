package org.xsm.plugins.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How one read of a {@link VhdChain} is served: first planned (which layer's file holds each byte
 * range, from the BATs and sector bitmaps, which are in memory), with ranges of one file that
 * follow each other merged into one read; then carried out. When the plan has reads of several
 * files and enough bytes, they run in parallel: a disk spread over many snapshots (each layer
 * holding scattered runs) then costs the latency of the slowest read rather than the sum, which is
 * what dominates when the files are not in the page cache.
 */
final class ReadPlan {
  /** Bytes below which a plan runs on the caller's thread alone. */
  static final int PARALLEL_MIN_BYTES = 128 * 1024;

  private static final int THREADS = 8;

  /** Shared by every chain; its threads never wait on each other, so it cannot deadlock. */
  private static final ExecutorService POOL =
      Executors.newFixedThreadPool(
          THREADS,
          new java.util.concurrent.ThreadFactory() {
            private final AtomicInteger n = new AtomicInteger();

            @Override
            public Thread newThread(Runnable r) {
              Thread t = new Thread(r, "vhd-chain-read-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            }
          });

  /** {@code length} bytes at {@code dstPos} of the read: from {@code layer}'s file, or zeros. */
  private record Piece(int layer, long fileOffset, int dstPos, int length) {
    static final int ZERO = -1;
  }

  private final List<VhdImage> layers;
  private final List<Piece> pieces = new ArrayList<>();
  private int distinctFiles;
  private long lastLayerMask;

  ReadPlan(List<VhdImage> layers) {
    this.layers = layers;
  }

  /** Plans {@code length} bytes of the disk at {@code offset}, to land at {@code dstPos}. */
  ReadPlan plan(long offset, int dstPos, int length) throws IOException {
    layer(0, offset, dstPos, length);
    return this;
  }

  private void layer(int i, long off, int pos, int len) throws IOException {
    if (len == 0) {
      return;
    }
    if (i == layers.size()) {
      add(Piece.ZERO, 0, pos, len);
      return;
    }
    VhdImage l = layers.get(i);
    long size = l.virtualSizeBytes();
    if (off >= size) {
      add(Piece.ZERO, 0, pos, len);
      return;
    }
    if (off + len > size) {
      int inside = (int) (size - off);
      layer(i, off, pos, inside);
      add(Piece.ZERO, 0, pos + inside, len - inside);
      return;
    }
    if (l.isFixed()) {
      add(i, off, pos, len);
      return;
    }
    int bs = l.blockSize();
    while (len > 0) {
      int block = (int) (off / bs);
      int inBlock = (int) (off % bs);
      int n = Math.min(bs - inBlock, len);
      if (!l.isAllocated(block)) {
        layer(i + 1, off, pos, n);
      } else if (l.isFull(block)) {
        add(i, l.dataOffset(block) + inBlock, pos, n);
      } else {
        runs(i, l, block, (long) block * bs, inBlock, pos, n);
      }
      pos += n;
      off += n;
      len -= n;
    }
  }

  /** Part of an allocated, partly filled block: runs of present sectors from this layer. */
  private void runs(int i, VhdImage l, int block, long blockStart, int from, int pos, int len)
      throws IOException {
    byte[] bitmap = l.bitmap(block);
    long data = l.dataOffset(block);
    int at = from;
    int end = from + len;
    while (at < end) {
      boolean present = Be.bit(bitmap, at / 512);
      int runEnd = (at / 512 + 1) * 512;
      while (runEnd < end && Be.bit(bitmap, runEnd / 512) == present) {
        runEnd += 512;
      }
      runEnd = Math.min(runEnd, end);
      int n = runEnd - at;
      if (present) {
        add(i, data + at, pos, n);
      } else {
        layer(i + 1, blockStart + at, pos, n);
      }
      pos += n;
      at = runEnd;
    }
  }

  private void add(int layer, long fileOffset, int pos, int len) {
    if (!pieces.isEmpty()) {
      Piece last = pieces.get(pieces.size() - 1);
      if (last.layer == layer
          && last.dstPos + last.length == pos
          && (layer == Piece.ZERO || last.fileOffset + last.length == fileOffset)) {
        pieces.set(
            pieces.size() - 1, new Piece(layer, last.fileOffset, last.dstPos, last.length + len));
        return;
      }
    }
    pieces.add(new Piece(layer, fileOffset, pos, len));
    if (layer != Piece.ZERO && layer < 64 && (lastLayerMask & (1L << layer)) == 0) {
      lastLayerMask |= 1L << layer;
      distinctFiles++;
    }
  }

  /** Carries the plan out into {@code dst} (offsets relative to {@code dst}'s position 0). */
  void execute(ByteBuffer dst, int totalBytes) throws IOException {
    boolean parallel = distinctFiles > 1 && totalBytes >= PARALLEL_MIN_BYTES;
    if (!parallel) {
      for (Piece p : pieces) {
        run(p, dst);
      }
      return;
    }
    // Each read is offered to the pool; whichever of the pool and this thread claims it first
    // does it, so a busy pool (many chains reading at once) never makes this read wait in a queue.
    List<Offered> offered = new ArrayList<>();
    List<Piece> mine = new ArrayList<>();
    for (Piece p : pieces) {
      if (p.layer == Piece.ZERO || offered.size() >= THREADS) {
        mine.add(p);
      } else {
        Offered o = new Offered(p, new AtomicBoolean());
        o.future = POOL.submit(() -> o.runIfUnclaimed(dst));
        offered.add(o);
      }
    }
    IOException failure = null;
    try {
      for (Piece p : mine) {
        run(p, dst);
      }
      for (Offered o : offered) {
        o.runIfUnclaimed(dst);
      }
    } catch (IOException | RuntimeException e) {
      failure = e instanceof IOException io ? io : new IOException(e);
      offered.forEach(o -> o.claimed.set(true)); // what the pool has not started is dropped
    }
    // Every read the pool claimed ends before this returns: none may write into dst afterwards.
    boolean interrupted = false;
    for (Offered o : offered) {
      while (true) {
        try {
          o.future.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          Throwable c = e.getCause();
          IOException io = c instanceof IOException x ? x : new IOException(c);
          if (failure == null) {
            failure = io;
          } else if (failure != io) {
            failure.addSuppressed(io);
          }
          break;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** A read offered to the pool, done by whoever claims it first. */
  private final class Offered {
    final Piece piece;
    final AtomicBoolean claimed;
    Future<?> future;

    Offered(Piece piece, AtomicBoolean claimed) {
      this.piece = piece;
      this.claimed = claimed;
    }

    Void runIfUnclaimed(ByteBuffer dst) throws IOException {
      if (claimed.compareAndSet(false, true)) {
        run(piece, dst);
      }
      return null;
    }
  }

  private void run(Piece p, ByteBuffer dst) throws IOException {
    ByteBuffer part = dst.slice(p.dstPos, p.length);
    if (p.layer == Piece.ZERO) {
      VhdChain.fillZeros(part);
    } else {
      layers.get(p.layer).readFile(part, p.fileOffset);
    }
  }
}
