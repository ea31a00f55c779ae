package org.xsm.bench;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a guest's serial console (QEMU's UNIX socket) on its own thread and notes when each tick
 * {@code <T n>} the guest prints arrives, by this host's monotonic clock.
 */
final class TickReader implements AutoCloseable {
  /** Tick {@code number} arrived at {@code nanos} ({@link System#nanoTime}). */
  record Tick(long number, long nanos) {}

  private final SocketChannel channel;
  private final List<Tick> ticks = new ArrayList<>();

  private TickReader(SocketChannel channel) {
    this.channel = channel;
  }

  static TickReader open(Path socket) throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    ch.connect(UnixDomainSocketAddress.of(socket));
    TickReader r = new TickReader(ch);
    Thread t = new Thread(r::read, "ticks-" + socket.getFileName());
    t.setDaemon(true);
    t.start();
    return r;
  }

  private void read() {
    ByteBuffer b = ByteBuffer.allocate(4096);
    StringBuilder line = new StringBuilder();
    try {
      while (channel.read(b) >= 0) {
        long now = System.nanoTime();
        b.flip();
        while (b.hasRemaining()) {
          char c = (char) b.get();
          if (c == '<') {
            line.setLength(0);
          }
          line.append(c);
          if (c == '>' && line.length() > 3 && line.charAt(1) == 'T') {
            try {
              long n = Long.parseLong(line.substring(2, line.length() - 1));
              synchronized (ticks) {
                ticks.add(new Tick(n, now));
                ticks.notifyAll();
              }
            } catch (NumberFormatException e) {
              // not a tick (other console output): skipped
            }
            line.setLength(0);
          }
        }
        b.clear();
      }
    } catch (IOException e) {
      // closed by close(), or QEMU ended: the ticks so far stand
    }
  }

  /** Waits until {@code n} ticks have arrived. */
  void awaitTicks(int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (ticks) {
      while (ticks.size() < n) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException("only " + ticks.size() + " ticks within " + timeout);
        }
        ticks.wait(Math.max(1, left / 1_000_000));
      }
    }
  }

  Tick first() {
    synchronized (ticks) {
      return ticks.get(0);
    }
  }

  Tick last() {
    synchronized (ticks) {
      return ticks.get(ticks.size() - 1);
    }
  }

  /** The median time between consecutive ticks. */
  long medianPeriodNanos() {
    synchronized (ticks) {
      long[] d = new long[ticks.size() - 1];
      for (int i = 1; i < ticks.size(); i++) {
        d[i - 1] = ticks.get(i).nanos() - ticks.get(i - 1).nanos();
      }
      java.util.Arrays.sort(d);
      return d[d.length / 2];
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
