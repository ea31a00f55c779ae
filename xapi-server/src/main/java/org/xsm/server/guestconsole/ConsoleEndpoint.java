package org.xsm.server.guestconsole;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a running domain serves one of its consoles on this host: a unix socket (QEMU's {@code -vnc
 * unix:PATH}, {@code -chardev socket,path=PATH,server=on,wait=off}) or a TCP port (QEMU's {@code
 * -vnc 127.0.0.1:N}, port 5900 + N). The console proxy connects to it once per client connection
 * and relays bytes both ways without looking at them.
 *
 * @param address a {@link UnixDomainSocketAddress} or a resolved {@link InetSocketAddress}
 */
public record ConsoleEndpoint(SocketAddress address) {
  public ConsoleEndpoint {
    Objects.requireNonNull(address, "address");
    if (address instanceof InetSocketAddress a && a.isUnresolved()) {
      throw new IllegalArgumentException("unresolved console address " + a);
    }
    if (!(address instanceof UnixDomainSocketAddress) && !(address instanceof InetSocketAddress)) {
      throw new IllegalArgumentException(
          "a console is a unix socket or a TCP port, not " + address);
    }
  }

  /** A unix socket, such as QEMU's {@code -vnc unix:PATH}. */
  public static ConsoleEndpoint unixSocket(Path path) {
    return new ConsoleEndpoint(UnixDomainSocketAddress.of(path));
  }

  /** A TCP port, normally on loopback. */
  public static ConsoleEndpoint tcp(String host, int port) {
    return new ConsoleEndpoint(new InetSocketAddress(host, port));
  }

  /** A new blocking connection to the endpoint. */
  SocketChannel connect() throws IOException {
    return SocketChannel.open(address);
  }

  @Override
  public String toString() {
    return address instanceof UnixDomainSocketAddress u ? "unix:" + u.getPath() : "tcp:" + address;
  }
}
