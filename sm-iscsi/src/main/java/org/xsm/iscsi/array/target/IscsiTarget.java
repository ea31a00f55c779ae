package org.xsm.iscsi.array.target;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.xsm.iscsi.array.scsi.ScsiCommands;

/**
 * The iSCSI target: one portal, one target name, every LUN of the pool behind it. A thread per
 * connection. {@link #start} binds; {@link #close} stops accepting and drops open connections.
 */
public final class IscsiTarget implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(IscsiTarget.class.getName());

  private final TargetConfig config;
  private final ScsiCommands scsi;
  private final ServerSocket server;
  private final ExecutorService threads;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  private IscsiTarget(TargetConfig config, ScsiCommands scsi, ServerSocket server) {
    this.config = config;
    this.scsi = scsi;
    this.server = server;
    this.threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "iscsi-connection");
              t.setDaemon(true);
              return t;
            });
  }

  /** Binds the portal and starts accepting connections. */
  public static IscsiTarget start(TargetConfig config, ScsiCommands scsi) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getByName(config.host()), config.port()), 64);
    IscsiTarget t = new IscsiTarget(config, scsi, s);
    Thread acceptor = new Thread(t::accept, "iscsi-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    return t;
  }

  /** The bound port. */
  public int port() {
    return server.getLocalPort();
  }

  public TargetConfig config() {
    return config;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        open.add(s);
        threads.execute(
            () -> {
              try {
                new Connection(s, config, scsi).run();
              } finally {
                open.remove(s);
              }
            });
      } catch (IOException e) {
        if (!server.isClosed()) {
          LOG.log(Level.WARNING, "accept failed on " + server.getLocalSocketAddress(), e);
        }
      }
    }
  }

  static int portOf(Socket s) {
    return s.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : open) {
      s.close();
    }
    threads.shutdownNow();
  }
}
