package org.xsm.server.transfer;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A response body as a blocking {@link OutputStream} for a worker thread, with back-pressure: a
 * write waits while the connection's write queue is full, so a slow client holds the export back
 * instead of filling memory. Writes are gathered into 1 MiB buffers.
 */
public final class ResponseStream extends OutputStream {
  private static final int CHUNK_BYTES = 1024 * 1024;
  private static final long STALL_SECONDS = 300;

  private final HttpServerResponse response;
  private Buffer pending = Buffer.buffer(CHUNK_BYTES);
  private volatile boolean closed;
  private volatile CountDownLatch drained = new CountDownLatch(0);

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
    response.write(pending);
    pending = Buffer.buffer(CHUNK_BYTES);
  }

  private void awaitRoom() throws IOException {
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

  /** Sends what is left and ends the response. */
  @Override
  public void close() throws IOException {
    flush();
    if (closed) {
      throw new IOException("the client closed the connection");
    }
    response.end();
  }
}
