package org.xsm.server.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The guest's serial console through QEMU's UNIX socket, driving the busybox shell. Each command
 * ends with {@code echo M$((n+0))E}: the shell prints {@code Mn E}... as {@code M<n>E}, which the
 * echoed command line never contains, so the output up to that marker is the command's.
 */
public final class SerialConsole implements AutoCloseable {
  private final SocketChannel channel;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
  private final AtomicInteger markers = new AtomicInteger();

  private SerialConsole(SocketChannel channel) {
    this.channel = channel;
  }

  /** Connects, retrying until the socket exists and accepts (QEMU creates it as it starts). */
  public static SerialConsole connect(Path socket, Duration timeout)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        ch.connect(UnixDomainSocketAddress.of(socket));
        ch.configureBlocking(false);
        return new SerialConsole(ch);
      } catch (IOException e) {
        ch.close();
        if (System.nanoTime() > deadline) {
          throw new IOException("serial console " + socket + " not reachable: " + e, e);
        }
        Thread.sleep(20);
      }
    }
  }

  /**
   * Polls until the shell answers: sends a probe every 300 ms (a probe sent while the guest still
   * boots is lost or queued) and returns once one is answered.
   */
  public void awaitShell(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      int n = markers.incrementAndGet();
      send("echo M$((" + n + "+0))E\n");
      if (readUntil("M" + n + "E", Duration.ofMillis(300)) != null) {
        run("stty -echo; PS1=''", Duration.ofSeconds(20));
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException(
            "no shell on the serial console within " + timeout + "; got: " + tail());
      }
    }
  }

  /**
   * Runs a shell command (on its own line, so it may end with {@code &}); its output (the text
   * before the marker).
   */
  public String run(String command, Duration timeout) throws IOException, InterruptedException {
    int n = markers.incrementAndGet();
    send(command + "\necho M$((" + n + "+0))E\n");
    String out = readUntil("M" + n + "E", timeout);
    if (out == null) {
      throw new IOException(
          "'" + command + "' did not finish within " + timeout + "; got: " + tail());
    }
    return out;
  }

  /**
   * Waits for {@code text} in what the guest writes (no shell needed: firmware, a boot sector);
   * returns the output up to it.
   */
  public String await(String text, Duration timeout) throws IOException, InterruptedException {
    String out = readUntil(text, timeout);
    if (out == null) {
      throw new IOException("'" + text + "' not seen within " + timeout + "; got: " + tail());
    }
    return out;
  }

  private void send(String s) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    while (b.hasRemaining()) {
      channel.write(b);
    }
  }

  /** Output up to {@code marker} (consumed with it), or null when it did not come in time. */
  private String readUntil(String marker, Duration timeout)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    ByteBuffer b = ByteBuffer.allocate(65536);
    while (true) {
      String s = pending.toString(StandardCharsets.ISO_8859_1);
      int i = s.indexOf(marker);
      if (i >= 0) {
        pending.reset();
        String rest = s.substring(i + marker.length());
        pending.write(rest.getBytes(StandardCharsets.ISO_8859_1));
        return s.substring(0, i);
      }
      if (System.nanoTime() > deadline) {
        return null;
      }
      b.clear();
      int n = channel.read(b);
      if (n < 0) {
        throw new IOException("serial console closed; got: " + tail());
      }
      if (n == 0) {
        Thread.sleep(5);
      } else {
        pending.write(b.array(), 0, n);
      }
    }
  }

  private String tail() {
    String s = pending.toString(StandardCharsets.ISO_8859_1);
    return s.substring(Math.max(0, s.length() - 4000));
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
