package org.xsm.bench.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.xsm.api.VdiDevice;
import org.xsm.server.nbd.NbdServer;

/**
 * xsm's NBD server fuzzed over a socket: each input is what a client sends (handshake, options,
 * requests) to a server exporting a 1 MiB in-memory disk. A crash is an exception that escapes a
 * connection's thread (the server must answer bad input with an error or a closed connection, and
 * keep serving).
 */
final class NbdTarget implements FuzzTarget {
  private static final long IHAVEOPT = 0x49484156454F5054L;
  private final AtomicReference<Throwable> escaped = new AtomicReference<>();
  private NbdServer server;

  @Override
  public String name() {
    return "nbd";
  }

  @Override
  public List<String> scope() {
    return List.of(
        "org/xsm/server/nbd/Nbd.",
        "org/xsm/server/nbd/NbdConnection",
        "org/xsm/server/nbd/NbdHandshake",
        "org/xsm/server/nbd/NbdServer",
        "org/xsm/server/nbd/NbdExport");
  }

  private synchronized NbdServer server() throws IOException {
    if (server == null) {
      Thread.setDefaultUncaughtExceptionHandler((t, e) -> escaped.compareAndSet(null, e));
      server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), 2);
      server.export("fuzz", new Memory(1 << 20), false);
    }
    return server;
  }

  @Override
  public List<byte[]> seeds() throws IOException {
    return List.of(session(true, false), session(true, true), session(false, false));
  }

  private static byte[] session(boolean go, boolean structured) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    DataOutputStream o = new DataOutputStream(b);
    o.writeInt(3); // fixed newstyle, no zeroes
    if (structured) {
      o.writeLong(IHAVEOPT);
      o.writeInt(8);
      o.writeInt(0);
    }
    byte[] name = "fuzz".getBytes(StandardCharsets.US_ASCII);
    o.writeLong(IHAVEOPT);
    if (go) {
      o.writeInt(7);
      o.writeInt(4 + name.length + 2);
      o.writeInt(name.length);
      o.write(name);
      o.writeShort(0);
    } else {
      o.writeInt(1);
      o.writeInt(name.length);
      o.write(name);
    }
    for (int type : new int[] {1, 0, 3, 7, 2}) { // write, read, flush, block status, disc
      o.writeInt(0x25609513);
      o.writeShort(0);
      o.writeShort(type);
      o.writeLong(type);
      o.writeLong(4096);
      o.writeInt(type == 1 ? 512 : 4096);
      if (type == 1) {
        o.write(new byte[512]);
      }
    }
    return b.toByteArray();
  }

  @Override
  public List<byte[]> dictionary() {
    ByteBuffer b = ByteBuffer.allocate(8);
    b.putLong(IHAVEOPT);
    return List.of(
        b.array(),
        new byte[] {0x25, 0x60, (byte) 0x95, 0x13},
        new byte[] {0, 0, 0, 7},
        new byte[] {0, 0, 0, 5},
        new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
  }

  @Override
  public String run(byte[] input) throws Throwable {
    NbdServer s = server();
    long got = 0;
    try (Socket sock = new Socket("127.0.0.1", s.port())) {
      sock.setSoTimeout(2000);
      sock.getOutputStream().write(input);
      sock.shutdownOutput();
      InputStream in = sock.getInputStream();
      byte[] buf = new byte[65536];
      for (int n; (n = in.read(buf)) >= 0; ) {
        got += n;
      }
    } catch (SocketTimeoutException e) {
      return "waiting"; // the server waits for more: a proper answer to a short input
    } catch (IOException e) {
      got = -1; // reset by the server: a proper answer to bad input
    }
    Throwable t = escaped.getAndSet(null);
    if (t != null) {
      throw t;
    }
    return "answered/" + Long.numberOfLeadingZeros(got + 1);
  }

  @Override
  public boolean refusal(Throwable t) {
    return false; // nothing may escape a connection
  }

  /** A disk in memory. */
  private static final class Memory implements VdiDevice {
    private final byte[] data;

    Memory(int size) {
      data = new byte[size];
    }

    @Override
    public long sizeBytes() {
      return data.length;
    }

    @Override
    public boolean readOnly() {
      return false;
    }

    @Override
    public synchronized void read(ByteBuffer dst, long off) {
      dst.put(data, (int) off, dst.remaining());
    }

    @Override
    public synchronized void write(ByteBuffer src, long off) {
      src.get(data, (int) off, src.remaining());
    }

    @Override
    public void flush() {}
  }
}
