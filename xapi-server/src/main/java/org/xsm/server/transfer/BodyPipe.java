package org.xsm.server.transfer;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;

/**
 * A request body as a blocking {@link InputStream} for a worker thread, with back-pressure: the
 * request is paused while more than {@link #HIGH_WATER_BYTES} wait here and resumed when the reader
 * has taken them below {@link #LOW_WATER_BYTES}. So an upload of any size holds a few megabytes.
 *
 * <p>The body ends at the request's end or when the client closes the connection (or it fails):
 * either way the reader sees the end of the stream, as xapi's import reads from the socket until
 * the image is whole. Xen Orchestra sends uploads of unknown length with a Content-Length of 1 PiB
 * and closes the connection after the last byte, so a close is not an error in itself: the format
 * decides whether what came is complete (a raw image of the VDI's size, a VHD ending with its
 * footer), and {@link #closedEarly()} says why the body ended, for messages.
 */
public final class BodyPipe extends InputStream {
  static final int HIGH_WATER_BYTES = 8 * 1024 * 1024;
  static final int LOW_WATER_BYTES = 2 * 1024 * 1024;

  private final HttpServerRequest request;
  private final Context context;
  private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
  private long queuedBytes;
  private boolean paused;
  private boolean connectionClosed;
  private boolean ended;
  private boolean discarding;
  private Throwable failure;
  private Buffer current;
  private int pos;

  /** Takes over the request's body; call on the request's event loop, before it is resumed. */
  public BodyPipe(HttpServerRequest request, Context context) {
    this.request = request;
    this.context = context;
    request.handler(this::offer);
    request.endHandler(v -> end(null));
    request.exceptionHandler(this::closed);
    request
        .connection()
        .closeHandler(v -> closed(new IOException("the client closed the connection")));
  }

  /**
   * The connection closed: what Vert.x still holds of the body (read from the socket up to its end
   * before the close is reported, held while the request was paused) is delivered first, then the
   * end. Resuming queues the delivery on this context, so the end, queued after it, comes after the
   * last byte, provided the delivery is not paused again half-way: from the close on, {@link
   * #offer} never pauses (what is left is bounded by what Vert.x had read, and no more can come).
   * Pausing there would leave the tail with Vert.x while the reader, seeing the end, stopped short:
   * Xen Orchestra's uploads of unknown length end this way, and lost their last megabytes.
   */
  private void closed(Throwable why) {
    synchronized (this) {
      if (ended || connectionClosed) {
        return;
      }
      connectionClosed = true;
      paused = false;
    }
    if (!request.isEnded()) {
      request.resume();
    }
    context.runOnContext(v -> end(why));
  }

  private synchronized void offer(Buffer b) {
    if (discarding) {
      return;
    }
    queue.add(b);
    queuedBytes += b.length();
    if (queuedBytes > HIGH_WATER_BYTES && !paused && !connectionClosed) {
      paused = true;
      request.pause();
    }
    notifyAll();
  }

  private synchronized void end(Throwable t) {
    if (!ended) {
      ended = true;
      failure = t;
    }
    notifyAll();
  }

  /** Whether the body ended by the client closing the connection (or failing), not its end. */
  synchronized boolean closedEarly() {
    return failure != null;
  }

  /** How the connection ended early ("" if it did not), for messages. */
  synchronized String closeReason() {
    return failure == null ? "" : String.valueOf(failure.getMessage());
  }

  /**
   * Drops the rest of the body as it arrives, so that the client, which may send it all before
   * reading the answer, gets to read the error sent meanwhile.
   */
  public synchronized void discard() {
    discarding = true;
    queue.clear();
    queuedBytes = 0;
    if (paused) {
      paused = false;
      context.runOnContext(v -> request.resume());
    }
  }

  /** Whether the body ended by the client closing or failing rather than finishing. */
  public synchronized boolean failed() {
    return failure != null;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (current == null || pos == current.length()) {
      current = take();
      pos = 0;
      if (current == null) {
        return -1;
      }
    }
    int n = Math.min(len, current.length() - pos);
    current.getBytes(pos, pos + n, b, off);
    pos += n;
    return n;
  }

  private synchronized Buffer take() throws IOException {
    while (queue.isEmpty() && !ended) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while reading the upload", e);
      }
    }
    Buffer b = queue.poll();
    if (b == null) {
      return null; // the end, or a close: see the class comment
    }
    queuedBytes -= b.length();
    if (paused && queuedBytes < LOW_WATER_BYTES && !connectionClosed) {
      paused = false;
      context.runOnContext(v -> request.resume());
    }
    return b;
  }
}
