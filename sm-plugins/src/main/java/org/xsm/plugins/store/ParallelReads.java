package org.xsm.plugins.store;

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
 * Carries out the reads of one planned chain read, in parallel when asked: a disk spread over many
 * layers (each holding scattered runs) then costs the latency of the slowest read rather than the
 * sum, which is what dominates when the files are not in the page cache. Each read is offered to a
 * shared pool; whichever of the pool and the caller claims it first does it, so a busy pool (many
 * chains reading at once) never makes a read wait in a queue; and every read the pool claimed ends
 * before {@link #run} returns, so none writes into the buffer afterwards.
 */
public final class ParallelReads {
  /** Bytes below which a chain read runs on the caller's thread alone. */
  public static final int PARALLEL_MIN_BYTES = 128 * 1024;

  private static final int THREADS = 8;

  /** Shared by every chain; its threads never wait on each other, so it cannot deadlock. */
  private static final ExecutorService POOL = daemonPool("chain-read-", THREADS);

  /** A fixed pool of daemon threads named {@code prefix} and a number. */
  static ExecutorService daemonPool(String prefix, int threads) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(
        threads,
        r -> {
          Thread t = new Thread(r, prefix + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  private ParallelReads() {}

  /** Fills {@code part} (a slice of the read's buffer) from wherever the plan found it. */
  @FunctionalInterface
  public interface Source {
    void readInto(ByteBuffer part) throws IOException;
  }

  /**
   * {@code length} bytes at {@code dstPos} of the read; {@code cheap} ones (zeros) are never worth
   * handing to another thread.
   */
  public record Piece(Source source, int dstPos, int length, boolean cheap) {}

  /** Does every piece into {@code dst} (positions relative to its position 0). */
  public static void run(List<Piece> pieces, ByteBuffer dst, boolean parallel) throws IOException {
    if (!parallel) {
      for (Piece p : pieces) {
        read(p, dst);
      }
      return;
    }
    List<Offered> offered = new ArrayList<>();
    List<Piece> mine = new ArrayList<>();
    for (Piece p : pieces) {
      if (p.cheap() || offered.size() >= THREADS) {
        mine.add(p);
      } else {
        Offered o = new Offered(p);
        o.future = POOL.submit(() -> o.readIfUnclaimed(dst));
        offered.add(o);
      }
    }
    IOException failure = null;
    try {
      for (Piece p : mine) {
        read(p, dst);
      }
      for (Offered o : offered) {
        o.readIfUnclaimed(dst);
      }
    } catch (IOException | RuntimeException e) {
      failure = e instanceof IOException io ? io : new IOException(e);
      offered.forEach(o -> o.claimed.set(true)); // what the pool has not started is dropped
    }
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

  private static void read(Piece p, ByteBuffer dst) throws IOException {
    p.source().readInto(dst.slice(p.dstPos(), p.length()));
  }

  /** A read offered to the pool, done by whoever claims it first. */
  private static final class Offered {
    final Piece piece;
    final AtomicBoolean claimed = new AtomicBoolean();
    Future<?> future;

    Offered(Piece piece) {
      this.piece = piece;
    }

    Void readIfUnclaimed(ByteBuffer dst) throws IOException {
      if (claimed.compareAndSet(false, true)) {
        read(piece, dst);
      }
      return null;
    }
  }
}
