package org.xsm.server.domain.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A QMP client (QEMU's JSON machine protocol) on a UNIX socket: one JSON object per line each way.
 * After the greeting it negotiates capabilities; {@link #execute} sends a command with an {@code
 * id} and waits for the answer with that id; asynchronous events go to the event handler. One
 * thread reads; when the connection ends (QEMU exited or closed it) every waiting call fails and
 * {@code onClose} runs once.
 *
 * <p>Thread-safety: {@link #execute} may be called from any thread.
 */
final class Qmp implements Closeable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SocketChannel channel;
  private final BufferedReader in;
  private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final Consumer<JsonNode> events;
  private final Runnable onClose;
  private volatile boolean closed;

  private Qmp(SocketChannel channel, Consumer<JsonNode> events, Runnable onClose) {
    this.channel = channel;
    this.in =
        new BufferedReader(
            new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
    this.events = events;
    this.onClose = onClose;
  }

  /**
   * Connects (retrying until {@code wait} has passed: QEMU creates the socket while it starts),
   * reads the greeting and enters command mode.
   */
  static Qmp connect(
      Path socket, Duration wait, String name, Consumer<JsonNode> events, Runnable onClose)
      throws IOException {
    long deadline = System.nanoTime() + wait.toNanos();
    SocketChannel ch;
    while (true) {
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        ch.connect(UnixDomainSocketAddress.of(socket));
        break;
      } catch (IOException e) {
        ch.close();
        if (System.nanoTime() > deadline) {
          throw new IOException("QMP socket " + socket + " does not answer: " + e.getMessage(), e);
        }
        try {
          Thread.sleep(20); // QEMU is still starting; the socket appears within milliseconds
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while connecting to " + socket, ie);
        }
      }
    }
    Qmp q = new Qmp(ch, events, onClose);
    String greeting = q.in.readLine();
    if (greeting == null || !JSON.readTree(greeting).has("QMP")) {
      ch.close();
      throw new IOException("no QMP greeting on " + socket + ": " + greeting);
    }
    Thread t = new Thread(q::readLoop, "qmp-" + name);
    t.setDaemon(true);
    t.start();
    try {
      q.execute("qmp_capabilities", null, Duration.ofSeconds(10));
    } catch (QmpException e) {
      q.close();
      throw new IOException("QMP on " + socket + ": " + e.getMessage(), e);
    }
    return q;
  }

  /**
   * Runs a command; its {@code return} value.
   *
   * @throws QmpException when QEMU answers with an error, the connection ends or time runs out
   */
  JsonNode execute(String command, Map<String, ?> arguments, Duration timeout) throws QmpException {
    String id = "xsm-" + ids.incrementAndGet();
    ObjectNode msg = JSON.createObjectNode().put("execute", command).put("id", id);
    if (arguments != null) {
      msg.set("arguments", JSON.valueToTree(arguments));
    }
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    pending.put(id, answer);
    try {
      if (closed) {
        throw new QmpException(command + ": the QMP connection is closed");
      }
      byte[] line = (JSON.writeValueAsString(msg) + "\n").getBytes(StandardCharsets.UTF_8);
      synchronized (channel) {
        ByteBuffer b = ByteBuffer.wrap(line);
        while (b.hasRemaining()) {
          channel.write(b);
        }
      }
      JsonNode r = answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (r.has("error")) {
        JsonNode e = r.get("error");
        throw new QmpException(
            command + ": " + e.path("class").asText() + ": " + e.path("desc").asText());
      }
      return r.path("return");
    } catch (IOException e) {
      throw new QmpException(command + ": " + e.getMessage(), e);
    } catch (ExecutionException e) {
      throw new QmpException(command + ": " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new QmpException(command + ": no answer within " + timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QmpException(command + ": interrupted", e);
    } finally {
      pending.remove(id);
    }
  }

  private void readLoop() {
    try {
      String line;
      while ((line = in.readLine()) != null) {
        JsonNode m = JSON.readTree(line);
        if (m.has("event")) {
          events.accept(m);
        } else if (m.has("id")) {
          CompletableFuture<JsonNode> f = pending.get(m.get("id").asText());
          if (f != null) {
            f.complete(m);
          }
        }
      }
    } catch (IOException e) {
      // the connection ended: QEMU exited, or close() was called; handled below either way
    } finally {
      closed = true;
      IOException gone = new IOException("QMP connection ended");
      pending.values().forEach(f -> f.completeExceptionally(gone));
      try {
        channel.close();
      } catch (IOException e) {
        // closing a channel that already failed; nothing more can be done with it
      }
      onClose.run();
    }
  }

  boolean isClosed() {
    return closed;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    channel.close();
  }

  /** A QMP command failed. */
  static final class QmpException extends Exception {
    QmpException(String message) {
      super(message);
    }

    QmpException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
