package org.xsm.nfs.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The RPC client against a scripted in-process server (a fake, as unit tests may use): xid
 * matching, record fragments, rejected calls, and the timeout, reconnect and retransmission rules.
 * The real server is exercised by the NFS integration tests.
 */
class RpcClientTest {
  /**
   * What the fake server does with one call: records to send back (or, when {@link #asFragments},
   * the fragments of one record), or null to stay silent.
   */
  interface Script {
    byte[][] answer(int xid, int proc, int connection) throws IOException;
  }

  /** A call as the fake server saw it. */
  record Seen(int xid, int proc, int connection) {}

  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = Collections.synchronizedList(new ArrayList<>());
  private ServerSocket server;
  private volatile Script script;
  private volatile boolean asFragments;

  private InetSocketAddress startServer(Script s) throws IOException {
    script = s;
    server = new ServerSocket(0);
    AtomicInteger connections = new AtomicInteger();
    Thread t =
        new Thread(
            () -> {
              try {
                while (true) {
                  Socket sock = server.accept();
                  sockets.add(sock);
                  int n = connections.incrementAndGet();
                  Thread c = new Thread(() -> serve(sock, n));
                  c.setDaemon(true);
                  c.start();
                }
              } catch (IOException e) {
                // server closed at the end of the test
              }
            });
    t.setDaemon(true);
    t.start();
    return new InetSocketAddress("127.0.0.1", server.getLocalPort());
  }

  private void serve(Socket sock, int connection) {
    try (sock) {
      DataInputStream in = new DataInputStream(sock.getInputStream());
      OutputStream out = sock.getOutputStream();
      while (true) {
        int len = in.readInt() & 0x7fffffff;
        byte[] rec = new byte[len];
        in.readFully(rec);
        ByteBuffer b = ByteBuffer.wrap(rec);
        int xid = b.getInt();
        b.getInt(); // CALL
        b.getInt(); // rpcvers
        b.getInt(); // program
        b.getInt(); // version
        int proc = b.getInt();
        seen.add(new Seen(xid, proc, connection));
        byte[][] fragments = script.answer(xid, proc, connection);
        if (fragments == null) {
          continue;
        }
        synchronized (out) {
          for (int i = 0; i < fragments.length; i++) {
            boolean last = !asFragments || i == fragments.length - 1;
            int mark = fragments[i].length | (last ? 0x80000000 : 0);
            out.write(ByteBuffer.allocate(4).putInt(mark).array());
            out.write(fragments[i]);
          }
          out.flush();
        }
      }
    } catch (IOException e) {
      // connection closed by the client or the test
    }
  }

  /** An accepted, successful reply carrying {@code value}. */
  private static byte[] success(int xid, int value) {
    return new XdrWriter()
        .writeInt(xid)
        .writeInt(1) // REPLY
        .writeInt(0) // MSG_ACCEPTED
        .writeInt(0)
        .writeInt(0) // AUTH_NONE verifier
        .writeInt(0) // SUCCESS
        .writeInt(value)
        .toBuffer()
        .array();
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  @AfterEach
  void stopServer() throws IOException {
    if (server != null) {
      server.close();
    }
    synchronized (sockets) {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  private static RpcOptions options(long timeoutMillis, int retrans) {
    return new RpcOptions(Duration.ofMillis(timeoutMillis), retrans, 0, 0);
  }

  @Test
  void repliesInAnotherOrderReachTheirCalls() throws Exception {
    List<Integer> held = new CopyOnWriteArrayList<>();
    InetSocketAddress addr =
        startServer(
            (xid, proc, conn) -> {
              // Answer the first two calls only after the third, in reverse order.
              if (proc < 3) {
                held.add(xid);
                return null;
              }
              byte[] third = success(xid, proc * 10);
              byte[] second = success(held.get(1), 20);
              byte[] first = success(held.get(0), 10);
              return new byte[][] {third, second, first};
            });
    try (RpcClient c = RpcClient.connect(addr, 1, 1, options(5000, 0))) {
      CompletableFuture<RpcClient.Reply> a = c.callAsync(1);
      CompletableFuture<RpcClient.Reply> b = c.callAsync(2);
      Thread.sleep(100);
      CompletableFuture<RpcClient.Reply> third = c.callAsync(3);
      assertThat(c.await(third).body().readInt()).isEqualTo(30);
      assertThat(c.await(b).body().readInt()).isEqualTo(20);
      assertThat(c.await(a).body().readInt()).isEqualTo(10);
    }
  }

  @Test
  void aReplySplitIntoFragmentsIsReassembled() throws Exception {
    asFragments = true;
    InetSocketAddress addr =
        startServer(
            (xid, proc, conn) -> {
              byte[] r = success(xid, 4242);
              byte[] head = new byte[5];
              byte[] tail = new byte[r.length - 5];
              System.arraycopy(r, 0, head, 0, 5);
              System.arraycopy(r, 5, tail, 0, tail.length);
              return new byte[][] {head, tail};
            });
    try (RpcClient c = RpcClient.connect(addr, 1, 1, options(5000, 0))) {
      assertThat(c.call(7).body().readInt()).isEqualTo(4242);
    }
  }

  @Test
  void aDeniedCallFailsWithTheReason() throws Exception {
    InetSocketAddress addr =
        startServer(
            (xid, proc, conn) ->
                new byte[][] {
                  bytes(
                      new XdrWriter()
                          .writeInt(xid)
                          .writeInt(1)
                          .writeInt(1) // MSG_DENIED
                          .writeInt(1) // AUTH_ERROR
                          .writeInt(2) // AUTH_REJECTEDCRED
                          .toBuffer())
                });
    try (RpcClient c = RpcClient.connect(addr, 1, 1, options(5000, 0))) {
      assertThatThrownBy(() -> c.call(1))
          .isInstanceOf(RpcException.class)
          .hasMessageContaining("authentication refused (auth_stat 2)");
    }
  }

  @Test
  void anUnansweredCallIsSentAgainOnANewConnectionWithItsXid() throws Exception {
    InetSocketAddress addr =
        startServer((xid, proc, conn) -> conn == 1 ? null : new byte[][] {success(xid, conn)});
    try (RpcClient c = RpcClient.connect(addr, 1, 1, options(300, 2))) {
      RpcClient.Reply r = c.call(5);
      assertThat(r.body().readInt()).as("answered on the second connection").isEqualTo(2);
      assertThat(r.attempts()).isEqualTo(2);
    }
    assertThat(seen).hasSize(2);
    assertThat(seen.get(1).xid()).as("same xid when retransmitted").isEqualTo(seen.get(0).xid());
  }

  @Test
  void aSilentServerFailsTheCallWithinTheTotalTimeout() throws Exception {
    InetSocketAddress addr = startServer((xid, proc, conn) -> null);
    try (RpcClient c = RpcClient.connect(addr, 1, 1, options(200, 2))) {
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> c.call(9))
          .isInstanceOf(RpcTimeoutException.class)
          .hasMessageContaining(
              "did not answer program 1 v1 procedure 9 within 600 ms (sent 3 times)");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(ms).as("failure time").isBetween(550L, 3000L);
    }
  }

  @Test
  void aServerThatGoesAwayFailsCallsWithinTheTotalTimeout() throws Exception {
    InetSocketAddress addr = startServer((xid, proc, conn) -> new byte[][] {success(xid, 1)});
    try (RpcClient c = RpcClient.connect(addr, 1, 1, options(300, 1))) {
      assertThat(c.call(1).body().readInt()).isEqualTo(1);
      stopServer(); // listening socket and connections gone: reconnects are refused
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> c.call(2)).isInstanceOf(RpcTimeoutException.class);
      assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(3000L);
    }
  }

  @Test
  void aConnectionDroppedMidStreamIsReopenedAndTheCallAnswered() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    InetSocketAddress addr =
        startServer(
            (xid, proc, conn) -> {
              if (calls.incrementAndGet() == 2) {
                synchronized (sockets) {
                  for (Socket s : sockets) {
                    s.close(); // the server "restarts": every connection drops
                  }
                }
                return null;
              }
              return new byte[][] {success(xid, conn)};
            });
    try (RpcClient c = RpcClient.connect(addr, 1, 1, options(2000, 2))) {
      assertThat(c.call(1).body().readInt()).isEqualTo(1);
      RpcClient.Reply r = c.call(2);
      assertThat(r.body().readInt()).as("answered on the new connection").isEqualTo(2);
      assertThat(r.attempts()).isEqualTo(2);
    }
  }

  @Test
  void connectingToNothingFailsAtOnce() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    assertThatThrownBy(
            () ->
                RpcClient.connect(new InetSocketAddress("127.0.0.1", port), 1, 1, options(500, 0)))
        .isInstanceOf(RpcException.class)
        .hasMessageContaining("cannot connect");
  }
}
