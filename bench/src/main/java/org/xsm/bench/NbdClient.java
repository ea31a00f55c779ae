package org.xsm.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A minimal NBD client for benchmarks, as Xen Orchestra's is: fixed newstyle handshake, {@code
 * NBD_OPT_STARTTLS} when the server gave a certificate (trusted alone, checked against the subject
 * name), {@code NBD_OPT_GO}, then simple replies to {@code READ}, {@code WRITE}, {@code FLUSH} and
 * {@code DISC}. Requests are pipelined up to a window; replies may come in any order. Not
 * thread-safe: one thread per client.
 */
final class NbdClient implements AutoCloseable {
  private static final long IHAVEOPT = 0x49484156454F5054L;
  private static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
  private static final int OPT_STARTTLS = 5;
  private static final int OPT_GO = 7;
  private static final int REP_ACK = 1;
  private static final int REP_INFO = 3;
  private static final int CMD_READ = 0;
  private static final int CMD_WRITE = 1;
  private static final int CMD_DISC = 2;
  private static final int CMD_FLUSH = 3;

  /** Where an export is, as {@code VDI.get_nbd_info} says; an empty {@code certPem}: no TLS. */
  record Target(String address, int port, String exportName, String certPem, String subject) {}

  /** One read: {@code length} bytes at {@code offset}. */
  record Range(long offset, int length) {}

  /** Receives the data of each read as it arrives (not in request order). */
  interface Sink {
    void accept(Range range, byte[] data) throws IOException;
  }

  private final Socket socket;
  private final DataInputStream in;
  private final DataOutputStream out;
  private final long sizeBytes;
  private final boolean tls;
  private long nextHandle;

  private NbdClient(
      Socket socket, DataInputStream in, DataOutputStream out, long size, boolean tls) {
    this.socket = socket;
    this.in = in;
    this.out = out;
    this.sizeBytes = size;
    this.tls = tls;
  }

  /** Connects, upgrades to TLS if the target has a certificate, and opens the export. */
  static NbdClient open(Target t) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(t.address(), t.port()), 10_000);
    s.setTcpNoDelay(true);
    DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
    if (in.readLong() != 0x4e42444d41474943L || in.readLong() != IHAVEOPT) {
      throw new IOException("not a newstyle NBD server");
    }
    int serverFlags = in.readUnsignedShort();
    if ((serverFlags & 1) == 0) {
      throw new IOException("the NBD server is not fixed newstyle");
    }
    out.writeInt(1 | (serverFlags & 2));
    boolean tls = !t.certPem().isEmpty();
    if (tls) {
      option(out, OPT_STARTTLS, new byte[0]);
      int type = reply(in, new byte[1][]);
      if (type != REP_ACK) {
        throw new IOException("NBD_OPT_STARTTLS answered 0x" + Integer.toHexString(type));
      }
      SSLSocket ssl =
          (SSLSocket)
              trusting(t.certPem()).getSocketFactory().createSocket(s, t.subject(), t.port(), true);
      SSLParameters p = ssl.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the subject
      ssl.setSSLParameters(p);
      ssl.setUseClientMode(true);
      ssl.startHandshake();
      s = ssl;
      in = new DataInputStream(new BufferedInputStream(ssl.getInputStream(), 1 << 18));
      out = new DataOutputStream(new BufferedOutputStream(ssl.getOutputStream(), 1 << 16));
    }
    byte[] name = t.exportName().getBytes(StandardCharsets.UTF_8);
    byte[] go = new byte[4 + name.length + 2];
    go[0] = (byte) (name.length >>> 24);
    go[1] = (byte) (name.length >>> 16);
    go[2] = (byte) (name.length >>> 8);
    go[3] = (byte) name.length;
    System.arraycopy(name, 0, go, 4, name.length);
    option(out, OPT_GO, go);
    long size = -1;
    byte[][] data = new byte[1][];
    for (int type; (type = reply(in, data)) != REP_ACK; ) {
      if (type != REP_INFO) {
        s.close();
        throw new IOException(
            "NBD_OPT_GO refused: 0x"
                + Integer.toHexString(type)
                + " "
                + new String(data[0], StandardCharsets.UTF_8));
      }
      DataInputStream d = new DataInputStream(new ByteArrayInputStream(data[0]));
      if (d.readUnsignedShort() == 0) {
        size = d.readLong();
      }
    }
    if (size < 0) {
      throw new IOException("NBD_OPT_GO gave no export size");
    }
    return new NbdClient(s, in, out, size, tls);
  }

  /** An SSL context trusting exactly the PEM certificate(s) given. */
  static SSLContext trusting(String certPem) throws IOException {
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (var c :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(certPem.getBytes(StandardCharsets.US_ASCII)))) {
        ks.setCertificateEntry("host" + i++, (X509Certificate) c);
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot trust the host certificate: " + e.getMessage(), e);
    }
  }

  private static void option(DataOutputStream out, int option, byte[] data) throws IOException {
    out.writeLong(IHAVEOPT);
    out.writeInt(option);
    out.writeInt(data.length);
    out.write(data);
    out.flush();
  }

  private static int reply(DataInputStream in, byte[][] data) throws IOException {
    if (in.readLong() != OPTION_REPLY_MAGIC) {
      throw new IOException("bad NBD option reply magic");
    }
    in.readInt();
    int type = in.readInt();
    data[0] = in.readNBytes(in.readInt());
    return type;
  }

  long sizeBytes() {
    return sizeBytes;
  }

  boolean tls() {
    return tls;
  }

  /** Reads every range, up to {@code window} requests in flight; data goes to the sink. */
  void read(List<Range> ranges, int window, Sink sink) throws IOException {
    Map<Long, Range> inFlight = new HashMap<>();
    ArrayDeque<Range> todo = new ArrayDeque<>(ranges);
    while (!todo.isEmpty() || !inFlight.isEmpty()) {
      while (!todo.isEmpty() && inFlight.size() < window) {
        Range r = todo.poll();
        inFlight.put(request(CMD_READ, r.offset(), r.length()), r);
      }
      out.flush();
      long handle = simpleReply();
      Range r = inFlight.remove(handle);
      if (r == null) {
        throw new IOException("reply for an unknown handle " + handle);
      }
      byte[] b = new byte[r.length()];
      in.readFully(b);
      sink.accept(r, b);
    }
  }

  /** Writes {@code data} at {@code offset}, and waits for the answer. */
  void write(long offset, byte[] data) throws IOException {
    request(CMD_WRITE, offset, data.length);
    out.write(data);
    out.flush();
    simpleReply();
  }

  void flush() throws IOException {
    request(CMD_FLUSH, 0, 0);
    out.flush();
    simpleReply();
  }

  private long request(int type, long offset, int length) throws IOException {
    long handle = ++nextHandle;
    out.writeInt(0x25609513);
    out.writeShort(0);
    out.writeShort(type);
    out.writeLong(handle);
    out.writeLong(offset);
    out.writeInt(length);
    return handle;
  }

  private long simpleReply() throws IOException {
    if (in.readInt() != 0x67446698) {
      throw new IOException("bad NBD simple reply magic");
    }
    int error = in.readInt();
    long handle = in.readLong();
    if (error != 0) {
      throw new IOException("NBD request " + handle + " failed: error " + error);
    }
    return handle;
  }

  /** Sends {@code NBD_CMD_DISC} and closes the socket. */
  @Override
  public void close() throws IOException {
    try {
      request(CMD_DISC, 0, 0);
      out.flush();
    } finally {
      socket.close();
    }
  }
}
