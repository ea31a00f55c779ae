package org.xsm.server.guestconsole;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client's binary messages as a byte stream each way (what noVNC does in the browser):
 * what arrives is read from {@link #in}, and each {@code flush} of {@link #out} sends one message.
 */
final class WebSocketStreams implements WebSocket.Listener {
  private static final byte[] END = new byte[0];
  private final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
  private volatile WebSocket socket;

  final InputStream in =
      new InputStream() {
        private byte[] current = new byte[0];
        private int pos;

        @Override
        public int read() throws IOException {
          while (pos == current.length) {
            if (current == END) {
              return -1;
            }
            try {
              byte[] next = received.poll(30, TimeUnit.SECONDS);
              if (next == null) {
                throw new IOException("nothing received for 30 s");
              }
              current = next;
              pos = 0;
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IOException("interrupted", e);
            }
          }
          return current[pos++] & 0xff;
        }
      };

  final OutputStream out =
      new ByteArrayOutputStream() {
        @Override
        public synchronized void flush() {
          socket.sendBinary(ByteBuffer.wrap(toByteArray()), true).join();
          reset();
        }
      };

  @Override
  public void onOpen(WebSocket webSocket) {
    socket = webSocket;
    webSocket.request(1);
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
    byte[] b = new byte[data.remaining()];
    data.get(b);
    received.add(b);
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    received.add(END);
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    received.add(END);
  }
}
