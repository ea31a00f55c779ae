package org.xsm.server.nbd;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A connected UNIX-domain channel seen as the {@link Socket} the NBD connection code reads and
 * writes. Only streams and close are offered (TLS is never started on a local socket). The streams
 * call the channel directly: {@code Channels.newInputStream} would hold the channel's blocking lock
 * while a read waits, and the connection writes replies while its reader waits for the next
 * request.
 */
final class UnixSocket extends Socket {
  private final SocketChannel channel;

  UnixSocket(SocketChannel channel) {
    this.channel = channel;
  }

  @Override
  public InputStream getInputStream() {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return len == 0 ? 0 : channel.read(ByteBuffer.wrap(b, off, len));
      }
    };
  }

  @Override
  public OutputStream getOutputStream() {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
          channel.write(buf);
        }
      }
    };
  }

  @Override
  public void setTcpNoDelay(boolean on) {
    // not a TCP socket: writes are handed over whole anyway
  }

  @Override
  public synchronized void close() throws IOException {
    channel.close();
  }

  @Override
  public boolean isClosed() {
    return !channel.isOpen();
  }
}
