package org.xsm.server.nbd;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.xsm.api.VdiDevice;

/**
 * An NBD server (fixed newstyle, structured replies, {@code base:allocation}) exporting {@link
 * VdiDevice}s by name. JDK only, so it runs inside the XenAPI server or on its own (the benchmark
 * uses it so).
 *
 * <p>Names are the access control: there is no TLS and no authentication, so callers give exports
 * unguessable names and {@code NBD_OPT_LIST} answers with no names at all. One thread accepts; each
 * connection has a thread reading requests and a few threads serving them, so a client's requests
 * in flight overlap.
 *
 * <p>Crash safety: the server holds no state of its own. A write is durable when the client's
 * {@code NBD_CMD_FLUSH} (or a write with {@code FUA}) has been answered, as {@link
 * VdiDevice#flush()} promises; a crash loses at most unflushed writes, as a disk's cache would.
 *
 * <p>Thread-safety: all methods may be called from any thread.
 */
public final class NbdServer implements Closeable {
  private final Listener socket;
  private final Map<String, NbdExport> exports = new ConcurrentHashMap<>();
  private final Map<NbdConnection, Boolean> connections = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final int workersPerConnection;
  private volatile boolean closed;
  private volatile SSLContext tls;
  private volatile BooleanSupplier plainAllowed = () -> true;

  /**
   * Tests only: runs in a connection's thread between the lookup of an export chosen by {@code
   * NBD_OPT_GO}/{@code NBD_OPT_EXPORT_NAME} and the connection's registration with it, so a test
   * can unexport in exactly that window.
   */
  volatile Consumer<String> lookupHook = name -> {};

  /** Where connections come from: a TCP server socket, or a UNIX-domain one. */
  private interface Listener extends Closeable {
    Socket accept() throws IOException;

    int port();
  }

  private NbdServer(Listener socket, int workersPerConnection) {
    this.socket = socket;
    this.workersPerConnection = workersPerConnection;
  }

  /**
   * Listens on {@code bind} (port 0: any free port) and starts accepting connections.
   *
   * @param workersPerConnection threads serving each connection's requests in parallel
   */
  public static NbdServer start(InetSocketAddress bind, int workersPerConnection)
      throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(bind, 64);
    Listener l =
        new Listener() {
          @Override
          public Socket accept() throws IOException {
            return s.accept();
          }

          @Override
          public int port() {
            return s.getLocalPort();
          }

          @Override
          public void close() throws IOException {
            s.close();
          }
        };
    return started(l, workersPerConnection, "nbd-accept-" + s.getLocalPort());
  }

  /**
   * Listens on a UNIX-domain socket at {@code path} (a stale socket file there is replaced). Who
   * may connect is decided by the file's directory permissions; {@link #port()} is 0.
   */
  public static NbdServer startUnix(Path path, int workersPerConnection) throws IOException {
    Files.deleteIfExists(path);
    ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    ch.bind(UnixDomainSocketAddress.of(path), 64);
    Listener l =
        new Listener() {
          @Override
          public Socket accept() throws IOException {
            return new UnixSocket(ch.accept());
          }

          @Override
          public int port() {
            return 0;
          }

          @Override
          public void close() throws IOException {
            ch.close();
            Files.deleteIfExists(path);
          }
        };
    return started(l, workersPerConnection, "nbd-accept-" + path.getFileName());
  }

  private static NbdServer started(Listener l, int workersPerConnection, String threadName) {
    NbdServer server = new NbdServer(l, Math.max(1, workersPerConnection));
    Thread t = new Thread(server::acceptLoop, threadName);
    t.setDaemon(true);
    t.start();
    return server;
  }

  /** The port the server listens on. */
  public int port() {
    return socket.port();
  }

  /**
   * Exports {@code device} as {@code name}, replacing nothing.
   *
   * @throws IllegalStateException if the name is taken
   */
  public NbdExport export(String name, VdiDevice device, boolean readOnly) {
    NbdExport e = new NbdExport(name, device, readOnly);
    if (exports.putIfAbsent(name, e) != null) {
      throw new IllegalStateException("NBD export " + name + " exists already");
    }
    return e;
  }

  /**
   * Removes an export and closes its connections; nothing if there is none. When this returns, no
   * connection can read or write the export's device any more: connections still in their handshake
   * are refused (they register with the export before it is closed, or find it closed), registered
   * ones are closed, and requests in progress have finished (a request not yet started fails
   * without touching the device). The caller may then deactivate the device.
   */
  public void unexport(String name) {
    NbdExport e = exports.remove(name);
    if (e != null) {
      e.close();
      e.detachOnDemand();
    }
  }

  /**
   * Devices attached when a client asks for them by name (an access token) and detached when its
   * last client leaves: how xapi's NBD server serves any VDI, attached to a VM or not.
   */
  public interface OnDemand {
    /** Whether {@code name} is a name this source would attach; attaches nothing. */
    Optional<Description> describe(String name);

    /**
     * Attaches what {@code name} names, or empty if it names nothing (or cannot be attached now:
     * the client is told "no such export"). The caller detaches through {@link Attached#detach}.
     */
    Optional<Attached> attach(String name);
  }

  /** What an on-demand name would serve, for {@code NBD_OPT_INFO}. */
  public record Description(long sizeBytes, boolean readOnly) {}

  /** A device attached on demand, and how to detach it. */
  public record Attached(VdiDevice device, boolean readOnly, Runnable detach) {}

  private volatile OnDemand onDemand;
  private final Object demandLock = new Object();

  /** Serves names no export has through {@code source} (null: none). */
  public void onDemand(OnDemand source) {
    this.onDemand = source;
  }

  /**
   * The export {@code name} with {@code c} registered in it, or null if there is none or it is
   * being closed. Registration and lookup are one step as far as {@link #unexport} can tell: an
   * export removed after the lookup is closed, and a closed export refuses to register. An
   * on-demand export is made, joined and (by {@link #left}) dropped under one lock, so a client
   * never joins an export its predecessor's departure is closing.
   */
  NbdExport open(String name, NbdConnection c) {
    NbdExport e = exports.get(name);
    if (e != null && !e.onDemand()) {
      lookupHook.accept(name);
      return e.join(c) ? e : null;
    }
    OnDemand source = onDemand;
    if (source == null || closed) {
      return null;
    }
    synchronized (demandLock) {
      e = exports.get(name);
      if (e == null) {
        Optional<Attached> a = source.attach(name);
        if (a.isEmpty()) {
          return null;
        }
        e = new NbdExport(name, a.get().device(), a.get().readOnly(), a.get().detach());
        if (exports.putIfAbsent(name, e) != null) {
          a.get().detach().run(); // exported meanwhile by its owner: this name is taken
          return null;
        }
      }
      lookupHook.accept(name);
      return e.join(c) ? e : null;
    }
  }

  /** A connection left {@code e}: an on-demand export with no connection left is detached. */
  void left(NbdExport e) {
    if (!e.onDemand()) {
      return;
    }
    synchronized (demandLock) {
      if (e.connectionCount() == 0 && exports.remove(e.name(), e)) {
        e.close();
        e.detachOnDemand();
      }
    }
  }

  /** What {@code name} serves, exported or on demand, without attaching anything. */
  Optional<Description> describe(String name) {
    NbdExport e = exports.get(name);
    if (e != null) {
      return Optional.of(new Description(e.device().sizeBytes(), e.readOnly()));
    }
    OnDemand source = onDemand;
    return source == null ? Optional.empty() : source.describe(name);
  }

  /** The export of that name, if any. */
  public Optional<NbdExport> find(String name) {
    return Optional.ofNullable(exports.get(name));
  }

  /**
   * Offers {@code NBD_OPT_STARTTLS} with {@code context} (null: no TLS); while {@code plainAllowed}
   * is false, a client must start TLS before any other option ({@code NBD_REP_ERR_TLS_REQD}).
   */
  public void tls(SSLContext context, BooleanSupplier plainAllowed) {
    this.tls = context;
    this.plainAllowed = plainAllowed;
  }

  SSLContext tlsContext() {
    return tls;
  }

  boolean plainAllowed() {
    return tls == null || plainAllowed.getAsBoolean();
  }

  int workersPerConnection() {
    return workersPerConnection;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = socket.accept();
      } catch (IOException e) {
        // The socket was closed by close(), or accept failed for this one connection.
        if (closed) {
          return;
        }
        continue;
      }
      NbdConnection c = new NbdConnection(this, s);
      connections.put(c, Boolean.TRUE);
      Thread t = new Thread(c, "nbd-conn-" + ids.incrementAndGet());
      t.setDaemon(true);
      t.start();
    }
  }

  void ended(NbdConnection c) {
    connections.remove(c);
  }

  /** Stops listening, removes every export and closes every connection. */
  @Override
  public void close() throws IOException {
    closed = true;
    socket.close();
    for (String name : exports.keySet()) {
      unexport(name);
    }
    for (NbdConnection c : connections.keySet()) {
      c.close();
    }
  }
}
