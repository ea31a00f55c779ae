package org.xsm.server.guestconsole;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Relays bytes between a client stream (the tunnel of an HTTP CONNECT, or a WebSocket whose binary
 * messages carry the bytes) and a console's blocking channel, both ways, with back-pressure: a
 * worker thread reads the console and waits while the client's write queue is full; the client is
 * paused while what it sent is written to the console. Either side ending closes both.
 */
final class ConsolePipe {
  private static final Logger LOG = Logger.getLogger(ConsolePipe.class);
  private static final int CHUNK = 64 * 1024;

  /** Writes one chunk to the client: a NetSocket write, or one binary WebSocket message. */
  interface ClientWriter {
    void write(Buffer b);
  }

  private final SocketChannel console;
  private final String what;
  private final Runnable closeClient;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Semaphore drained = new Semaphore(0);

  private ConsolePipe(SocketChannel console, String what, Runnable closeClient) {
    this.console = console;
    this.what = what;
    this.closeClient = closeClient;
  }

  /**
   * Starts relaying; returns at once. Call on the client's context, before it has delivered data.
   *
   * @param client what the client sends; {@code clientOut} is the same stream, written to
   * @param what the connection, for the log
   */
  static void start(
      ReadStream<Buffer> client,
      WriteStream<Buffer> clientOut,
      ClientWriter writer,
      Runnable closeClient,
      SocketChannel console,
      Executor workers,
      String what) {
    ConsolePipe p = new ConsolePipe(console, what, closeClient);
    client.exceptionHandler(e -> p.close("client error: " + e.getMessage()));
    client.endHandler(v -> p.close("client closed"));
    clientOut.drainHandler(v -> p.drained.release());
    client.handler(
        b -> {
          client.pause();
          workers.execute(
              () -> {
                if (p.toConsole(b)) {
                  client.resume();
                }
              });
        });
    client.resume();
    workers.execute(() -> p.fromConsole(clientOut, writer));
  }

  private boolean toConsole(Buffer b) {
    ByteBuffer bb = ByteBuffer.wrap(b.getBytes());
    try {
      while (bb.hasRemaining()) {
        console.write(bb);
      }
      return true;
    } catch (IOException e) {
      close("console write failed: " + e.getMessage());
      return false;
    }
  }

  private void fromConsole(WriteStream<Buffer> client, ClientWriter writer) {
    ByteBuffer bb = ByteBuffer.allocate(CHUNK);
    try {
      while (!closed.get()) {
        bb.clear();
        if (console.read(bb) < 0) {
          close("console closed");
          return;
        }
        bb.flip();
        byte[] bytes = new byte[bb.remaining()];
        bb.get(bytes);
        drained.drainPermits();
        writer.write(Buffer.buffer(bytes));
        while (client.writeQueueFull() && !closed.get()) {
          // The drain handler releases; the timeout re-checks in case it fired before this wait.
          drained.tryAcquire(1, TimeUnit.SECONDS);
        }
      }
    } catch (ClosedChannelException e) {
      close("closed"); // the client side closed the channel while this read
    } catch (IOException e) {
      close("console read failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close("interrupted");
    }
  }

  private void close(String why) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    LOG.debugf("%s: %s", what, why);
    drained.release();
    try {
      console.close();
    } catch (IOException e) {
      LOG.debugf(e, "%s: closing the console channel", what);
    }
    closeClient.run();
  }
}
