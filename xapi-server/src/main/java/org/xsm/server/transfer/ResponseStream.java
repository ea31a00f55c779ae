package org.xsm.server.transfer;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A response body as a blocking {@link OutputStream} for a worker thread, with back-pressure: a
 * write waits while more than {@link #MAX_IN_FLIGHT_BYTES} are written but not yet handed to the
 * connection (counted from each write's completion) or the connection's write queue is full, so a
 * slow client holds the export back instead of filling memory. The connection's own flag alone is
 * not enough: it changes on the event loop, and a worker writing faster than a busy event loop runs
 * would queue the whole body behind it. {@link #close()} returns only once the last byte was handed
 * to the connection, and throws if any write failed (the client went away), so an export is a
 * success only when its body was sent. Writes are gathered into 1 MiB buffers.
 */
public final class ResponseStream extends OutputStream {
  private static final int CHUNK_BYTES = 1024 * 1024;
  private static final long STALL_SECONDS = 300;
  static final long MAX_IN_FLIGHT_BYTES = 4L * CHUNK_BYTES;

  private final HttpServerResponse response;
  private Buffer pending = Buffer.buffer(CHUNK_BYTES);
  private volatile boolean closed;
  private volatile CountDownLatch drained = new CountDownLatch(0);
  private final Object progress = new Object();
  private long inFlight; // guarded by progress
  private volatile Throwable writeFailure;

  public ResponseStream(HttpServerResponse response) {
    this.response = response;
    response.closeHandler(
        v -> {
          closed = true;
          drained.countDown(); // a writer waiting for room learns of the close at once
        });
    if (response.closed()) {
      closed = true; // closed before the handler was set: it will not be called
    }
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    while (len > 0) {
      int n = Math.min(len, CHUNK_BYTES - pending.length());
      pending.appendBytes(b, off, n);
      off += n;
      len -= n;
      if (pending.length() == CHUNK_BYTES) {
        flush();
      }
    }
  }

  @Override
  public void flush() throws IOException {
    if (closed) {
      // Checked at every buffer, not only when the queue is full: a client that closes early
      // ends the export here, whatever remains to send.
      throw new IOException("the client closed the connection");
    }
    if (pending.length() == 0) {
      return;
    }
    awaitRoom();
    long n = pending.length();
    synchronized (progress) {
      inFlight += n;
    }
    response
        .write(pending)
        .onComplete(
            ar -> {
              synchronized (progress) {
                inFlight -= n;
                if (ar.failed() && writeFailure == null) {
                  writeFailure = ar.cause();
                }
                progress.notifyAll();
              }
            });
    pending = Buffer.buffer(CHUNK_BYTES);
  }

  /** Waits while too many bytes are written but not yet handed to the connection. */
  private void awaitWritten(long atMost) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STALL_SECONDS);
    synchronized (progress) {
      while (inFlight > atMost) {
        failIfGone();
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IOException("the client read nothing for " + STALL_SECONDS + " s");
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(progress, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while sending", e);
        }
      }
    }
    failIfGone();
  }

  private void failIfGone() throws IOException {
    if (writeFailure != null) {
      throw new IOException("the client went away: " + writeFailure.getMessage(), writeFailure);
    }
    if (closed) {
      throw new IOException("the client closed the connection");
    }
  }

  private void awaitRoom() throws IOException {
    awaitWritten(MAX_IN_FLIGHT_BYTES - CHUNK_BYTES);
    while (response.writeQueueFull()) {
      if (closed) {
        throw new IOException("the client closed the connection");
      }
      CountDownLatch latch = new CountDownLatch(1);
      drained = latch;
      response.drainHandler(v -> latch.countDown());
      if (!response.writeQueueFull() || closed) {
        continue; // drained or closed between the check and the handler: look again
      }
      try {
        if (!latch.await(STALL_SECONDS, TimeUnit.SECONDS)) {
          throw new IOException("the client read nothing for " + STALL_SECONDS + " s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while sending", e);
      }
    }
    if (closed) {
      throw new IOException("the client closed the connection");
    }
  }

  /** Sends what is left, ends the response and waits until it was handed to the connection. */
  @Override
  public void close() throws IOException {
    flush();
    awaitWritten(0);
    try {
      response.end().toCompletionStage().toCompletableFuture().get(STALL_SECONDS, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IOException("the client went away: " + e.getCause().getMessage(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IOException("the client read nothing for " + STALL_SECONDS + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while sending", e);
    }
  }
}
