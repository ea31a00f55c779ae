package org.xsm.nfs.rpc;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An ONC RPC v2 client (RFC 5531) for one program and version over one TCP connection, with record
 * marking, AUTH_SYS credentials, many calls in flight matched to replies by transaction id,
 * per-attempt timeouts, retransmission and reconnection.
 *
 * <p>Calls are written whole by the calling thread; one reader thread per connection reads replies
 * and completes the matching call. A timer thread checks deadlines: when an attempt has waited
 * {@link RpcOptions#timeout()} without reply, or the connection broke, the client reconnects and
 * sends every outstanding call again under its original xid; a call that has waited {@link
 * RpcOptions#totalTimeout()} fails with {@link RpcTimeoutException}. A call never hangs.
 *
 * <p>Retransmission means a non-idempotent call (CREATE, REMOVE, RENAME) may be executed twice if
 * the server lost its duplicate request cache (a restart); {@link Reply#attempts()} tells callers
 * that a call was sent more than once so they can recognise their own earlier effect.
 *
 * <p>Thread-safe.
 */
public final class RpcClient implements Closeable {
  private static final int CALL = 0;
  private static final int REPLY = 1;
  private static final int AUTH_NONE = 0;
  private static final int AUTH_SYS = 1;
  private static final long TICK_MILLIS = 100;

  /** A successful reply: the results, and how many times the call was sent. */
  public record Reply(XdrReader body, int attempts) {}

  private final InetSocketAddress address;
  private final int program;
  private final int version;
  private final RpcOptions options;
  private final byte[] credential;
  private final AtomicInteger nextXid = new AtomicInteger(ThreadLocalRandom.current().nextInt());
  private final Map<Integer, Call> pending = new ConcurrentHashMap<>();
  private final Object writeLock = new Object();
  private final Object connectLock = new Object();
  private final ScheduledExecutorService timer;
  private volatile Connection conn;
  private volatile boolean closed;

  private static final class Call {
    final int xid;
    final int proc;
    final ByteBuffer[] record;
    final DataSink sink;
    final CompletableFuture<Reply> future = new CompletableFuture<>();
    final long deadlineNanos;
    volatile long attemptDeadlineNanos;
    volatile int attempts;

    Call(int xid, int proc, ByteBuffer[] record, DataSink sink, long deadlineNanos) {
      this.xid = xid;
      this.proc = proc;
      this.record = record;
      this.sink = sink;
      this.deadlineNanos = deadlineNanos;
    }
  }

  private final class Connection {
    final SocketChannel channel;
    volatile boolean dead;

    Connection(SocketChannel channel) {
      this.channel = channel;
    }

    void fail() {
      dead = true;
      try {
        channel.close();
      } catch (IOException e) {
        // The connection is being dropped because it failed; a close error adds nothing.
      }
    }
  }

  private RpcClient(InetSocketAddress address, int program, int version, RpcOptions options) {
    this.address = address;
    this.program = program;
    this.version = version;
    this.options = options;
    this.credential = authSys(options);
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "rpc-timer-" + address + "-" + program);
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Connects to a server.
   *
   * @throws IOException if the first connection cannot be made (later ones are retried)
   */
  public static RpcClient connect(
      InetSocketAddress address, int program, int version, RpcOptions options) throws IOException {
    RpcClient c = new RpcClient(address, program, version, options);
    try {
      synchronized (c.connectLock) {
        c.conn = c.open();
      }
    } catch (IOException e) {
      c.close();
      throw e;
    }
    c.timer.scheduleWithFixedDelay(c::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    return c;
  }

  private static byte[] authSys(RpcOptions options) {
    XdrWriter w = new XdrWriter(64);
    w.writeInt((int) (System.currentTimeMillis() / 1000));
    w.writeString("xsm");
    w.writeInt(options.uid());
    w.writeInt(options.gid());
    w.writeInt(0); // no supplementary groups
    ByteBuffer b = w.toBuffer();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /** Where this client connects. */
  public InetSocketAddress address() {
    return address;
  }

  /** The options this client was made with. */
  public RpcOptions options() {
    return options;
  }

  /**
   * Takes the bulk data of a reply (a READ's) straight from the socket into the caller's buffer,
   * instead of through an intermediate record buffer.
   */
  public interface DataSink {
    /**
     * Called in the reader thread with the results of a successful reply, as far as they were read
     * ahead ({@value #HEAD_BYTES} bytes of the record at most): decodes up to and including the
     * length of the opaque data and returns the buffer its bytes go to, with exactly that many
     * bytes remaining; or returns null (or throws) to receive the whole reply as usual, decoding it
     * again from the start of the results.
     */
    ByteBuffer target(XdrReader results) throws XdrException;
  }

  /** How much of each single-fragment reply is read before deciding where its data goes. */
  public static final int HEAD_BYTES = 512;

  /**
   * Sends a call; the arguments are the concatenation of {@code args} (already XDR-encoded, each
   * padded). The buffers must not change until the returned future completes.
   */
  public CompletableFuture<Reply> callAsync(int proc, ByteBuffer... args) {
    return callAsync(proc, null, args);
  }

  /**
   * Sends a call whose reply data goes to {@code sink} (see {@link DataSink}); the future's reply
   * body is then empty if the sink took the data.
   */
  public CompletableFuture<Reply> callAsync(int proc, DataSink sink, ByteBuffer... args) {
    int xid = nextXid.getAndIncrement();
    XdrWriter h = new XdrWriter(96 + credential.length);
    h.writeInt(0); // record mark, filled in below
    h.writeInt(xid).writeInt(CALL).writeInt(2).writeInt(program).writeInt(version).writeInt(proc);
    h.writeInt(AUTH_SYS).writeOpaque(credential);
    h.writeInt(AUTH_NONE).writeInt(0);
    ByteBuffer header = h.toBuffer();
    long len = header.remaining() - 4L;
    for (ByteBuffer a : args) {
      len += a.remaining();
    }
    if (len > RpcRecords.MAX_RECORD) {
      return CompletableFuture.failedFuture(
          new RpcException("RPC call of " + len + " bytes is too large"));
    }
    header.putInt(0, 0x80000000 | (int) len);
    ByteBuffer[] record = new ByteBuffer[args.length + 1];
    record[0] = header;
    System.arraycopy(args, 0, record, 1, args.length);
    long deadline = System.nanoTime() + options.totalTimeout().toNanos();
    Call c = new Call(xid, proc, record, sink, deadline);
    if (closed) {
      c.future.completeExceptionally(new RpcException("RPC client to " + address + " is closed"));
      return c.future;
    }
    pending.put(xid, c);
    transmit(c);
    return c.future;
  }

  /** Sends a call and waits for its reply (never longer than the total timeout). */
  public Reply call(int proc, ByteBuffer... args) throws IOException {
    return await(callAsync(proc, args));
  }

  /** Waits for a call sent with {@link #callAsync}, unwrapping its failure. */
  public Reply await(CompletableFuture<Reply> future) throws IOException {
    try {
      // The timer fails the call at its deadline; the extra wait only guards against a bug there.
      return future.get(options.totalTimeout().toMillis() + 30_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for " + address);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new RpcException("RPC call to " + address + " failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new RpcTimeoutException("no reply from " + address + " (timer did not fire)");
    }
  }

  private void transmit(Call c) {
    c.attempts++;
    c.attemptDeadlineNanos = System.nanoTime() + options.timeout().toNanos();
    Connection k = conn;
    if (k == null || k.dead) {
      return; // the timer reconnects and sends it
    }
    try {
      synchronized (writeLock) {
        if (k.dead) {
          return;
        }
        ByteBuffer[] parts = new ByteBuffer[c.record.length];
        long left = 0;
        for (int i = 0; i < parts.length; i++) {
          parts[i] = c.record[i].duplicate();
          left += parts[i].remaining();
        }
        while (left > 0) {
          left -= k.channel.write(parts);
        }
      }
    } catch (IOException e) {
      k.fail(); // the timer reconnects and sends again
    }
  }

  private Connection open() throws IOException {
    SocketChannel ch = SocketChannel.open();
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
      ch.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
      ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
      ch.socket().connect(address, (int) Math.min(options.timeout().toMillis(), 10_000));
    } catch (IOException e) {
      ch.close();
      throw new RpcException("cannot connect to " + address + ": " + e.getMessage(), e);
    }
    Connection k = new Connection(ch);
    Thread reader = new Thread(() -> readLoop(k), "rpc-reader-" + address + "-" + program);
    reader.setDaemon(true);
    reader.start();
    return k;
  }

  private void tick() {
    try {
      long now = System.nanoTime();
      boolean stale = false;
      for (Call c : pending.values()) {
        if (now - c.deadlineNanos > 0) {
          if (pending.remove(c.xid, c)) {
            c.future.completeExceptionally(
                new RpcTimeoutException(
                    "server "
                        + address
                        + " did not answer "
                        + callName(c.proc)
                        + " within "
                        + options.totalTimeout().toMillis()
                        + " ms (sent "
                        + c.attempts
                        + (c.attempts == 1 ? " time)" : " times)")));
          }
        } else if (now - c.attemptDeadlineNanos > 0) {
          stale = true;
        }
      }
      Connection k = conn;
      if (k != null && !k.dead && stale) {
        k.fail(); // an unanswered call: assume the connection is wedged and start a new one
      }
      if ((k == null || k.dead) && !pending.isEmpty() && !closed) {
        reconnect();
      }
    } catch (RuntimeException e) {
      // Keep the timer alive: a dead timer would let calls wait forever.
      for (Call c : pending.values()) {
        if (pending.remove(c.xid, c)) {
          c.future.completeExceptionally(new RpcException("RPC timer failed: " + e, e));
        }
      }
    }
  }

  private void reconnect() {
    synchronized (connectLock) {
      Connection k = conn;
      if (k != null && !k.dead) {
        return;
      }
      try {
        conn = open();
      } catch (IOException e) {
        return; // server still away: the next tick tries again, deadlines still apply
      }
    }
    for (Call c : pending.values()) {
      transmit(c);
    }
  }

  private void readLoop(Connection k) {
    ByteBuffer mark = ByteBuffer.allocate(4);
    try {
      while (!k.dead) {
        mark.clear();
        RpcRecords.readFully(k.channel, mark);
        int m = mark.getInt(0);
        int len = m & 0x7fffffff;
        if (len > RpcRecords.MAX_RECORD) {
          throw new RpcException("RPC record of " + len + " bytes is too large");
        }
        ByteBuffer head = ByteBuffer.allocate(Math.min(len, HEAD_BYTES));
        RpcRecords.readFully(k.channel, head);
        head.flip();
        if (m < 0 && len > head.limit() && intoSink(k.channel, head, len)) {
          continue;
        }
        ByteBuffer rec = ByteBuffer.allocate(len).put(head);
        RpcRecords.readFully(k.channel, rec);
        dispatch(m < 0 ? rec.flip() : RpcRecords.moreFragments(k.channel, rec));
      }
    } catch (IOException e) {
      k.fail();
    }
  }

  /**
   * Delivers a reply whose call has a {@link DataSink}: the data goes from the socket into the
   * sink's buffer. Returns false, having read nothing more, if the reply is not for such a call or
   * not a success; the caller then reads it whole.
   */
  private boolean intoSink(SocketChannel ch, ByteBuffer head, int len) throws IOException {
    if (head.limit() < 8 || head.getInt(4) != REPLY) {
      return false;
    }
    int xid = head.getInt(0);
    Call c = pending.get(xid);
    if (c == null || c.sink == null) {
      return false;
    }
    ByteBuffer h = head.duplicate();
    ByteBuffer target;
    try {
      XdrReader r = new XdrReader(h);
      r.skip(8);
      RpcRecords.parseReplyHeader(r, callName(c.proc), address);
      target = c.sink.target(r);
    } catch (IOException e) {
      return false; // read whole, the usual path reports the error
    }
    int consumed = h.position();
    int dataLen = target == null ? -1 : target.remaining();
    if (target == null || (long) consumed + dataLen > len || !pending.remove(xid, c)) {
      return false;
    }
    try {
      int inHead = Math.min(head.limit() - consumed, dataLen);
      target.put(head.duplicate().position(consumed).limit(consumed + inHead));
      RpcRecords.readFully(ch, target);
      long rest = (long) len - head.limit() - (dataLen - inHead);
      if (rest > 0) {
        RpcRecords.readFully(
            ch, ByteBuffer.allocate((int) rest)); // padding, and anything after the data
      }
    } catch (IOException e) {
      pending.put(xid, c); // sent again after the reconnect; the retransmission's reply refills
      throw e;
    }
    c.future.complete(new Reply(new XdrReader(ByteBuffer.allocate(0)), c.attempts));
    return true;
  }

  private void dispatch(ByteBuffer rec) {
    XdrReader r = new XdrReader(rec);
    Call c = null;
    try {
      int xid = r.readInt();
      if (r.readInt() != REPLY) {
        return;
      }
      c = pending.remove(xid);
      if (c == null) {
        return; // a late reply to a call already answered or timed out
      }
      c.future.complete(
          new Reply(RpcRecords.parseReplyHeader(r, callName(c.proc), address), c.attempts));
    } catch (IOException e) {
      if (c != null) {
        c.future.completeExceptionally(e);
      }
    }
  }

  private String callName(int proc) {
    return RpcRecords.callName(program, version, proc);
  }

  /** Number of calls awaiting a reply. */
  public int pendingCalls() {
    return pending.size();
  }

  @Override
  public void close() {
    closed = true;
    timer.shutdownNow();
    Connection k = conn;
    if (k != null) {
      k.fail();
    }
    for (Call c : pending.values()) {
      if (pending.remove(c.xid, c)) {
        c.future.completeExceptionally(new RpcException("RPC client to " + address + " closed"));
      }
    }
  }

  @Override
  public String toString() {
    return "RpcClient[" + address + " program " + program + " v" + version + "]";
  }
}
