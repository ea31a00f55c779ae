package org.xsm.server.tls;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * Blocking TLS streams over a connected socket's streams, driven by an {@link SSLEngine}: what
 * {@code SSLSocket} does, but with the records of a large write gathered into one socket write. The
 * JDK's socket writes every 16 KiB record on its own (about 65,000 system calls per GiB sent); a
 * disk stream spends a measurable share of its CPU there. Plain text written in small pieces (a
 * reply header) is gathered with what follows it into the same record.
 *
 * <p>One reader thread and any number of writer threads (writes serialise on the output stream);
 * the engine lets wrap and unwrap run at once. Post-handshake messages (a TLS 1.3 key update, a
 * session ticket) are answered by whichever side meets them.
 */
public final class TlsStreams {
  /**
   * Records gathered before the socket write: 16 full ones of 16 KiB (a 256 KiB NBD read) and the
   * reply header's.
   */
  private static final int RECORDS_PER_WRITE = 17;

  private final SSLEngine engine;
  private final InputStream rawIn;
  private final OutputStream rawOut;
  private final Output out;
  private final Input in;

  private TlsStreams(SSLEngine engine, InputStream rawIn, OutputStream rawOut) {
    this.engine = engine;
    this.rawIn = rawIn;
    this.rawOut = rawOut;
    this.out = new Output(); // its buffers are sized from the engine's session
    this.in = new Input();
  }

  /**
   * Runs the handshake (as whichever side {@code engine} is set up as) and returns the streams.
   *
   * @throws SSLException the peer's handshake failed (its alert, when there was one, was sent)
   * @throws EOFException the peer closed during the handshake
   */
  public static TlsStreams handshake(SSLEngine engine, InputStream rawIn, OutputStream rawOut)
      throws IOException {
    TlsStreams s = new TlsStreams(engine, rawIn, rawOut);
    engine.beginHandshake();
    s.drive();
    return s;
  }

  public InputStream input() {
    return in;
  }

  public OutputStream output() {
    return out;
  }

  /**
   * Our close_notify, sent now (what {@code SSLSocket.shutdownOutput} does); reads still work until
   * the peer's own close_notify, after which they return end of stream.
   */
  public void closeOutput() throws IOException {
    synchronized (out) {
      out.sealPending();
      engine.closeOutbound();
      for (int i = 0; i < 4 && !engine.isOutboundDone(); i++) {
        out.wrap(new ByteBuffer[0]);
      }
      out.send();
      rawOut.flush();
    }
  }

  /** Runs the handshake's steps until the engine needs nothing more. */
  private void drive() throws IOException {
    while (true) {
      switch (engine.getHandshakeStatus()) {
        case NEED_TASK -> runTasks();
        case NEED_WRAP -> {
          synchronized (out) {
            out.wrap(new ByteBuffer[0]);
            out.send();
          }
        }
        case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
          if (!in.unwrapOne(true)) {
            throw new EOFException("the peer closed the connection during the TLS handshake");
          }
        }
        default -> {
          return; // FINISHED or NOT_HANDSHAKING
        }
      }
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }

  /** What the application writes: encrypted into records gathered in {@code net}. */
  private final class Output extends OutputStream {
    private final ByteBuffer pending =
        ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
    private ByteBuffer net =
        ByteBuffer.allocate(engine.getSession().getPacketBufferSize() * RECORDS_PER_WRITE);

    @Override
    public synchronized void write(int b) throws IOException {
      if (!pending.hasRemaining()) {
        sealPending();
      }
      pending.put((byte) b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      if (len <= pending.remaining()) {
        pending.put(b, off, len);
        return;
      }
      ByteBuffer src = ByteBuffer.wrap(b, off, len);
      pending.flip();
      ByteBuffer[] both = {pending, src};
      while (src.hasRemaining()) {
        wrap(both);
      }
      pending.clear();
    }

    @Override
    public synchronized void flush() throws IOException {
      sealPending();
      send();
      rawOut.flush();
    }

    /** Encrypts what is pending (small writes gathered) into records. */
    void sealPending() throws IOException {
      pending.flip();
      ByteBuffer[] one = {pending};
      while (pending.hasRemaining()) {
        wrap(one);
      }
      pending.clear();
    }

    /** One wrap into {@code net}, sending what is gathered first when a record might not fit. */
    void wrap(ByteBuffer[] srcs) throws IOException {
      int packet = engine.getSession().getPacketBufferSize();
      if (net.remaining() < packet) {
        send();
        if (net.capacity() < packet) {
          net = ByteBuffer.allocate(packet * RECORDS_PER_WRITE); // the session's packets grew
        }
      }
      SSLEngineResult r = engine.wrap(srcs, net);
      switch (r.getStatus()) {
        case OK -> {}
        case BUFFER_OVERFLOW ->
            send(); // the session's packet size grew: sent, tried again by the caller
        case CLOSED -> {
          if (r.bytesProduced() == 0 && remaining(srcs) > 0) {
            throw new SSLException("the TLS session is closed: nothing more can be sent");
          }
        }
        case BUFFER_UNDERFLOW -> throw new SSLException("TLS wrap underflow: " + r);
      }
      if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
        runTasks();
      }
    }

    /** Writes the gathered records to the socket in one call. */
    void send() throws IOException {
      if (net.position() > 0) {
        rawOut.write(net.array(), 0, net.position());
        net.clear();
      }
    }
  }

  private static long remaining(ByteBuffer[] bs) {
    long n = 0;
    for (ByteBuffer b : bs) {
      n += b.remaining();
    }
    return n;
  }

  /**
   * What the peer sent: records read from the socket in large pieces, decrypted into {@code app}.
   */
  private final class Input extends InputStream {
    private ByteBuffer net = ByteBuffer.allocate(engine.getSession().getPacketBufferSize() * 4);
    private ByteBuffer app =
        ByteBuffer.allocate(engine.getSession().getApplicationBufferSize() * 4).flip();
    private boolean closed;

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
      while (!app.hasRemaining()) {
        if (closed || !unwrapOne(false)) {
          return -1;
        }
      }
      int n = Math.min(len, app.remaining());
      app.get(b, off, n);
      return n;
    }

    @Override
    public int available() {
      return app.remaining();
    }

    /**
     * Unwraps records: at least one (reading from the socket as needed), then every whole one
     * already read while there is room for its plain text. Answers what the engine then needs to
     * send (a key update's answer, a handshake step).
     *
     * @return false at the end of the stream (the peer's close_notify, or the socket's end)
     */
    boolean unwrapOne(boolean handshaking) throws IOException {
      app.compact();
      try {
        boolean progressed = false;
        while (true) {
          net.flip();
          SSLEngineResult r;
          try {
            r = engine.unwrap(net, app);
          } finally {
            net.compact();
          }
          switch (r.getStatus()) {
            case CLOSED -> {
              closed = true;
              return progressed;
            }
            case BUFFER_OVERFLOW -> {
              if (progressed) {
                return true; // the plain text already there is read first
              }
              ByteBuffer bigger =
                  ByteBuffer.allocate(
                      app.capacity() + engine.getSession().getApplicationBufferSize());
              app.flip();
              bigger.put(app);
              app = bigger;
              continue;
            }
            case BUFFER_UNDERFLOW -> {
              if (progressed) {
                return true;
              }
              if (!net.hasRemaining()) {
                ByteBuffer bigger =
                    ByteBuffer.allocate(net.capacity() + engine.getSession().getPacketBufferSize());
                net.flip();
                bigger.put(net);
                net = bigger;
              }
              int n = rawIn.read(net.array(), net.arrayOffset() + net.position(), net.remaining());
              if (n < 0) {
                closed = true;
                return false;
              }
              net.position(net.position() + n);
              continue;
            }
            case OK -> {}
          }
          SSLEngineResult.HandshakeStatus hs = r.getHandshakeStatus();
          if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            runTasks();
            hs = engine.getHandshakeStatus();
          }
          if (hs == SSLEngineResult.HandshakeStatus.NEED_WRAP && !handshaking) {
            synchronized (out) {
              out.sealPending();
              while (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                out.wrap(new ByteBuffer[0]);
              }
              out.send();
              rawOut.flush();
            }
          }
          progressed |= r.bytesProduced() > 0 || r.bytesConsumed() > 0;
          if (handshaking || net.position() == 0) {
            return true;
          }
        }
      } finally {
        app.flip();
      }
    }
  }
}
