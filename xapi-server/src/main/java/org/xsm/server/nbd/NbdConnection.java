package org.xsm.server.nbd;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.server.tls.TlsStreams;
import org.xsm.server.tls.TlsTuning;

/**
 * One client connection: the handshake, then requests read by this thread (write payloads included)
 * and served by a few worker threads, so reads in flight overlap. Replies go out whole, one at a
 * time. Errors of one request are answered with an errno; protocol violations close the connection.
 */
final class NbdConnection implements Runnable {
  /** Requests in flight per connection; bounds the memory held by payloads. */
  private static final int MAX_IN_FLIGHT = 32;

  private final NbdServer server;
  private final Socket socket;
  private TlsStreams tls;
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
  private DataOutputStream out;
  private volatile NbdExport export;
  private boolean structured;
  private boolean allocationContext;

  NbdConnection(NbdServer server, Socket socket) {
    this.server = server;
    this.socket = socket;
  }

  @Override
  public void run() {
    ExecutorService workers = null;
    try {
      socket.setTcpNoDelay(true);
      DataInputStream in =
          new DataInputStream(new BufferedInputStream(socket.getInputStream(), 256 * 1024));
      out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 256 * 1024));
      NbdHandshake h = new NbdHandshake(server, this, in, out);
      if (h.run() == null) {
        return;
      }
      in = h.in();
      out = h.out();
      out.flush();
      structured = h.structured;
      allocationContext = h.allocationContext;
      workers =
          Executors.newFixedThreadPool(
              server.workersPerConnection(),
              r -> {
                Thread t = new Thread(r, Thread.currentThread().getName() + "-io");
                t.setDaemon(true);
                return t;
              });
      transmission(in, workers);
    } catch (IOException e) {
      // The client went away or the export was closed: nothing to answer to.
    } finally {
      close();
      if (workers != null) {
        workers.shutdown();
      }
      if (export != null) {
        export.leave(this);
        server.left(export);
      }
      server.ended(this);
    }
  }

  /** The streams of a connection. */
  record Streams(DataInputStream in, DataOutputStream out) {}

  /**
   * NBD_OPT_STARTTLS: the TLS handshake on this socket (as the server), and buffered streams over
   * it; from here on everything crosses encrypted.
   */
  Streams startTls(SSLContext context) throws IOException {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    // AES-128-GCM first: as safe as AES-256 here and cheaper per byte, what a disk stream spends on
    engine.setSSLParameters(TlsTuning.preferAes128(engine.getSSLParameters()));
    // the plain streams' buffers are empty here: the client waits for our answer to STARTTLS
    tls = TlsStreams.handshake(engine, socket.getInputStream(), socket.getOutputStream());
    out = new DataOutputStream(tls.output());
    return new Streams(new DataInputStream(tls.input()), out);
  }

  /** Looks up and joins export {@code name} as one step (see {@link NbdServer#open}). */
  NbdExport open(String name) {
    NbdExport e = server.open(name, this);
    if (e != null) {
      export = e;
    }
    return e;
  }

  /**
   * An orderly TLS end after NBD_CMD_DISC: our close_notify, then the client's read to its end
   * (briefly), so that closing the socket neither cuts the client's own close_notify short nor
   * resets the connection under it.
   */
  private void endTls(DataInputStream in) {
    if (tls == null) {
      return;
    }
    try {
      out.flush();
      tls.closeOutput();
      socket.setSoTimeout(2000);
      byte[] sink = new byte[4096];
      while (in.read(sink) >= 0) {
        // the client has nothing more to say after DISC; whatever comes is discarded
      }
    } catch (IOException e) {
      // the client closed first or did not answer: the socket is closed next either way
    }
  }

  void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // Closing only to wake the reader; the socket is gone either way.
    }
  }

  private void transmission(DataInputStream in, ExecutorService workers) throws IOException {
    while (true) {
      if (in.readInt() != Nbd.REQUEST_MAGIC) {
        return;
      }
      int flags = in.readShort() & 0xffff;
      int type = in.readShort() & 0xffff;
      long handle = in.readLong();
      long offset = in.readLong();
      long length = in.readInt() & 0xffffffffL;
      byte[] payload = null;
      if (type == Nbd.CMD_WRITE) {
        if (length > Nbd.MAX_PAYLOAD_BYTES) {
          return; // the spec lets a server drop a client sending more than it advertised
        }
        payload = new byte[(int) length];
        in.readFully(payload);
      }
      if (type == Nbd.CMD_DISC) {
        inFlight.acquireUninterruptibly(MAX_IN_FLIGHT); // answer everything pending first
        endTls(in);
        return;
      }
      Request r = new Request(flags, type, handle, offset, length, payload);
      inFlight.acquireUninterruptibly();
      workers.execute(
          () -> {
            try {
              serve(r);
            } finally {
              inFlight.release();
            }
          });
    }
  }

  private record Request(
      int flags, int type, long handle, long offset, long length, byte[] payload) {}

  private void serve(Request r) {
    if (!export.beginIo()) {
      error(r, Nbd.EIO, "the export was removed"); // the socket is closed: this only fails
      return;
    }
    try {
      serveOpen(r);
    } finally {
      export.endIo();
    }
  }

  private void serveOpen(Request r) {
    VdiDevice d = export.device();
    try {
      int err = check(r, d);
      if (err != 0) {
        error(r, err, "request out of range or not allowed");
        return;
      }
      switch (r.type) {
        case Nbd.CMD_READ -> {
          ByteBuffer b = ByteBuffer.allocate((int) r.length);
          d.read(b, r.offset);
          export.counted(r.length, 0);
          data(r, b.array());
        }
        case Nbd.CMD_WRITE -> {
          d.write(ByteBuffer.wrap(r.payload), r.offset);
          export.counted(0, r.payload.length);
          done(r, true);
        }
        case Nbd.CMD_FLUSH -> done(r, true);
        // Trimming is advisory (the spec lets a server ignore it); VdiDevice has no discard.
        case Nbd.CMD_TRIM -> done(r, false);
        case Nbd.CMD_WRITE_ZEROES -> {
          writeZeroes(d, r.offset, r.length);
          export.counted(0, r.length);
          done(r, true);
        }
        case Nbd.CMD_BLOCK_STATUS -> blockStatus(r, d);
        default -> error(r, Nbd.EINVAL, "command " + r.type + " is not supported");
      }
    } catch (SmException e) {
      error(
          r,
          switch (e.error()) {
            case BAD_REQUEST -> Nbd.EINVAL;
            case SR_NO_SPACE -> Nbd.ENOSPC;
            default -> Nbd.EIO;
          },
          e.getMessage());
    } catch (IOException e) {
      close(); // the reply could not be sent: the connection is broken
    }
  }

  /** 0, or the errno to answer for a request the export must refuse. */
  private int check(Request r, VdiDevice d) {
    boolean writes =
        r.type == Nbd.CMD_WRITE || r.type == Nbd.CMD_WRITE_ZEROES || r.type == Nbd.CMD_TRIM;
    if (writes && export.readOnly()) {
      return Nbd.EPERM;
    }
    if (r.type == Nbd.CMD_FLUSH) {
      return 0;
    }
    if (r.type == Nbd.CMD_BLOCK_STATUS && (!allocationContext || r.length == 0)) {
      return Nbd.EINVAL;
    }
    if (r.type == Nbd.CMD_READ && r.length > Nbd.MAX_PAYLOAD_BYTES) {
      return Nbd.EINVAL;
    }
    // Written so that no sum overflows: an offset near 2^63 must not wrap past the check (found by
    // ./bench/run fuzz).
    if (r.offset < 0 || r.length > d.sizeBytes() || r.offset > d.sizeBytes() - r.length) {
      return writes ? Nbd.ENOSPC : Nbd.EINVAL;
    }
    return 0;
  }

  /** Zeros a range, skipping blocks that are holes already (they read as zeros). */
  private static void writeZeroes(VdiDevice d, long offset, long length) throws SmException {
    int g = d.allocationBlockSizeBytes();
    BitSet allocated = d.allocatedBlocks();
    ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, 1024 * 1024));
    long end = offset + length;
    long pos = offset;
    while (pos < end) {
      long blockEnd = Math.min(end, (pos / g + 1) * g);
      boolean wholeHole = !allocated.get((int) (pos / g)) && pos % g == 0 && blockEnd % g == 0;
      if (!wholeHole) {
        for (long p = pos; p < blockEnd; ) {
          int n = (int) Math.min(zeros.capacity(), blockEnd - p);
          zeros.clear().limit(n);
          d.write(zeros, p);
          p += n;
        }
      }
      pos = blockEnd;
    }
  }

  private void blockStatus(Request r, VdiDevice d) throws SmException, IOException {
    int g = d.allocationBlockSizeBytes();
    BitSet allocated = d.allocatedBlocks();
    boolean one = (r.flags & Nbd.CMD_FLAG_REQ_ONE) != 0;
    ByteBuffer b = ByteBuffer.allocate(4 + 8 * (one ? 1 : 4096));
    b.putInt(Nbd.BASE_ALLOCATION_ID);
    long end = r.offset + r.length;
    long pos = r.offset;
    while (pos < end && b.remaining() >= 8) {
      boolean a = allocated.get((int) (pos / g));
      long next = (pos / g + 1) * g;
      while (next < end && allocated.get((int) (next / g)) == a) {
        next += g;
      }
      next = Math.min(next, end);
      b.putInt((int) (next - pos)).putInt(a ? 0 : Nbd.STATE_HOLE | Nbd.STATE_ZERO);
      pos = next;
      if (one) {
        break;
      }
    }
    b.flip();
    byte[] payload = new byte[b.remaining()];
    b.get(payload);
    synchronized (out) {
      chunkHeader(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_BLOCK_STATUS, r.handle, payload.length);
      out.write(payload);
      out.flush();
    }
  }

  private void done(Request r, boolean flushIfAsked) throws SmException, IOException {
    if (r.type == Nbd.CMD_FLUSH || (flushIfAsked && (r.flags & Nbd.CMD_FLAG_FUA) != 0)) {
      export.device().flush();
    }
    synchronized (out) {
      if (structured) {
        chunkHeader(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, r.handle, 0);
      } else {
        simpleHeader(0, r.handle);
      }
      out.flush();
    }
  }

  private void data(Request r, byte[] bytes) throws IOException {
    synchronized (out) {
      if (structured) {
        chunkHeader(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_OFFSET_DATA, r.handle, 8 + bytes.length);
        out.writeLong(r.offset);
      } else {
        simpleHeader(0, r.handle);
      }
      out.write(bytes);
      out.flush();
    }
  }

  private void error(Request r, int errno, String message) {
    try {
      synchronized (out) {
        if (structured) {
          byte[] m = String.valueOf(message).getBytes(StandardCharsets.UTF_8);
          int len = Math.min(m.length, 4096);
          chunkHeader(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_ERROR, r.handle, 6 + len);
          out.writeInt(errno);
          out.writeShort(len);
          out.write(m, 0, len);
        } else {
          simpleHeader(errno, r.handle); // no payload after an error, even for reads
        }
        out.flush();
      }
    } catch (IOException e) {
      close();
    }
  }

  private void simpleHeader(int errno, long handle) throws IOException {
    out.writeInt(Nbd.SIMPLE_REPLY_MAGIC);
    out.writeInt(errno);
    out.writeLong(handle);
  }

  private void chunkHeader(int flags, int type, long handle, int length) throws IOException {
    out.writeInt(Nbd.STRUCTURED_REPLY_MAGIC);
    out.writeShort(flags);
    out.writeShort(type);
    out.writeLong(handle);
    out.writeInt(length);
  }
}
