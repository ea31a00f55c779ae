package org.xsm.server.domain.qemu;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The guest's side of what it tells the host, read from a virtio-serial port named {@value
 * #PORT_NAME} (QEMU serves its host end on a UNIX socket). Lines of text; the one understood is
 * {@code ip <mac> <ipv4>}: the guest has that address on its NIC with that MAC (the test guest's
 * DHCP script writes it). Anything else is ignored; nothing is ever sent to the guest. Only what
 * the guest said is reported: a guest that says nothing has no addresses.
 */
final class GuestChannel implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(GuestChannel.class);

  /** The port's name, as the guest finds it in {@code /sys/class/virtio-ports/<port>/name}. */
  static final String PORT_NAME = "org.xsm.guest.0";

  private static final Pattern MAC = Pattern.compile("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}");
  private static final Pattern IPV4 =
      Pattern.compile(
          "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
  private static final int MAX_LINE = 256;

  private final SocketChannel channel;

  /** Who hears what the guest says. */
  interface Reports {
    /** The guest's NIC with {@code mac} (lower case) has {@code ipv4}. */
    void address(String vmUuid, String mac, String ipv4);
  }

  private GuestChannel(SocketChannel channel) {
    this.channel = channel;
  }

  /**
   * Connects to the port's socket and reads it on a daemon thread until QEMU ends or {@link
   * #close()}; empty if the socket is not there (a domain started before the channel existed).
   */
  static Optional<GuestChannel> open(Path socket, String vmUuid, Reports listener) {
    SocketChannel ch = null;
    try {
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      ch.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      LOG.debugf("VM %s: no guest channel (%s)", vmUuid, e.getMessage());
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // nothing was opened through it
        }
      }
      return Optional.empty();
    }
    GuestChannel g = new GuestChannel(ch);
    Thread t = new Thread(() -> g.read(vmUuid, listener), "guest-channel-" + vmUuid);
    t.setDaemon(true);
    t.start();
    return Optional.of(g);
  }

  private void read(String vmUuid, Reports listener) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.US_ASCII))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.length() > MAX_LINE) {
          continue;
        }
        String[] w = line.trim().split("\\s+");
        if (w.length == 3
            && w[0].equals("ip")
            && MAC.matcher(w[1]).matches()
            && IPV4.matcher(w[2]).matches()) {
          listener.address(vmUuid, w[1].toLowerCase(java.util.Locale.ROOT), w[2]);
        } else {
          LOG.debugf("VM %s: guest channel line ignored: %s", vmUuid, line);
        }
      }
    } catch (IOException e) {
      // QEMU ended, or close() was called
    }
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      LOG.debugf("closing a guest channel: %s", e.getMessage());
    }
  }
}
