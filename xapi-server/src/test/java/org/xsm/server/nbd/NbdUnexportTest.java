package org.xsm.server.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xsm.api.VdiDevice;

/**
 * {@link NbdServer#unexport}'s promise, driven into its races on purpose with latches: once it
 * returns, no connection touches the device, whether it was mid-handshake or had requests in
 * flight. No sleeps: each step waits for the server to reach the state the next step needs.
 */
class NbdUnexportTest {
  private static final int SIZE = 1 << 20;
  private NbdServer server;

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  /** The client's side of a handshake whose export is removed between lookup and registration. */
  private interface AfterUnexport {
    void check(DataInputStream in) throws IOException;
  }

  /**
   * Sends {@code option} for export "disk", unexports it while the server's connection thread is
   * held between the lookup and the registration, then lets the thread go on and runs {@code check}
   * on what the client receives. The device must never be touched after the unexport.
   */
  private void unexportBetweenLookupAndRegistration(int option, byte[] data, AfterUnexport check)
      throws Exception {
    server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), 2);
    GatedDevice d = new GatedDevice();
    server.export("disk", d, false);
    CountDownLatch lookedUp = new CountDownLatch(1);
    CountDownLatch unexported = new CountDownLatch(1);
    server.lookupHook =
        name -> {
          lookedUp.countDown();
          await(unexported);
        };
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(30_000);
      DataInputStream in = new DataInputStream(s.getInputStream());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      NbdWire.greeting(in, out);
      NbdWire.option(out, option, data);
      assertThat(lookedUp.await(30, TimeUnit.SECONDS)).isTrue();
      server.unexport("disk"); // the connection found the export but has not joined it
      d.detached.set(true);
      unexported.countDown();
      check.check(in);
    }
    assertThat(d.accessesAfterDetach.get()).isZero();
  }

  @Test
  void goBetweenLookupAndRegistrationIsRefused() throws Exception {
    unexportBetweenLookupAndRegistration(
        Nbd.OPT_GO,
        goData("disk"),
        in -> {
          assertThat(in.readLong()).isEqualTo(Nbd.OPTION_REPLY_MAGIC);
          assertThat(in.readInt()).isEqualTo(Nbd.OPT_GO);
          assertThat(in.readInt()).isEqualTo(Nbd.REP_ERR_UNKNOWN);
        });
  }

  @Test
  void exportNameBetweenLookupAndRegistrationClosesTheConnection() throws Exception {
    // No size and flags: transmission never starts.
    unexportBetweenLookupAndRegistration(
        Nbd.OPT_EXPORT_NAME,
        "disk".getBytes(StandardCharsets.UTF_8),
        NbdUnexportTest::assertClosed);
  }

  @Test
  void unexportWaitsForTheRequestInProgressAndQueuedOnesNeverReachTheDevice() throws Exception {
    server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), 1); // one worker: a queue
    GatedDevice d = new GatedDevice();
    server.export("disk", d, false);
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(30_000);
      DataInputStream in = new DataInputStream(s.getInputStream());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      NbdWire.handshake(in, out, "disk");
      assertThat(server.find("disk").orElseThrow().connectionCount()).isEqualTo(1);
      d.gateReads.set(true);
      NbdWire.request(out, Nbd.CMD_READ, 0, 4096);
      assertThat(d.readEntered.await(30, TimeUnit.SECONDS)).isTrue();
      for (int i = 0; i < 8; i++) { // queued behind the read on the only worker
        NbdWire.request(out, Nbd.CMD_WRITE, 4096L * i, 4096);
        out.write(new byte[4096]);
      }
      out.flush();
      Thread unexporter = new Thread(() -> server.unexport("disk"), "test-unexport");
      CompletableFuture<Void> done = new CompletableFuture<>();
      unexporter.setUncaughtExceptionHandler((t, e) -> done.completeExceptionally(e));
      Thread watcher =
          new Thread(
              () -> {
                try {
                  unexporter.join();
                  d.detached.set(true);
                  done.complete(null);
                } catch (InterruptedException e) {
                  done.completeExceptionally(e);
                }
              });
      unexporter.start();
      watcher.start();
      // Wait until unexport waits for the read (parked on the export's I/O lock).
      while (unexporter.getState() != Thread.State.WAITING && !done.isDone()) {
        Thread.onSpinWait();
      }
      assertThat(done).as("unexport returned while a request was reading the device").isNotDone();
      d.release.countDown();
      done.get(30, TimeUnit.SECONDS);
    }
    assertThat(d.writes.get()).as("queued writes reached the device").isZero();
    assertThat(d.accessesAfterDetach.get()).isZero();
  }

  private static void assertClosed(DataInputStream in) throws IOException {
    try {
      assertThat(in.read()).isEqualTo(-1);
    } catch (SocketException | EOFException e) {
      // reset by the server: closed too
    }
  }

  private static byte[] goData(String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + n.length + 2)
        .putInt(n.length)
        .put(n)
        .putShort((short) 0)
        .array();
  }

  private static void await(CountDownLatch l) {
    try {
      if (!l.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test did not release the hook");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** An in-memory disk that can hold reads at a gate and counts accesses after "deactivation". */
  private static final class GatedDevice implements VdiDevice {
    final AtomicBoolean gateReads = new AtomicBoolean();
    final CountDownLatch readEntered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicBoolean detached = new AtomicBoolean();
    final AtomicInteger accessesAfterDetach = new AtomicInteger();
    final AtomicInteger writes = new AtomicInteger();
    private final byte[] bytes = new byte[SIZE];

    private void access() {
      if (detached.get()) {
        accessesAfterDetach.incrementAndGet();
      }
    }

    @Override
    public long sizeBytes() {
      return SIZE;
    }

    @Override
    public boolean readOnly() {
      return false;
    }

    @Override
    public void read(ByteBuffer dst, long offsetBytes) {
      access();
      if (gateReads.get()) {
        readEntered.countDown();
        await(release);
      }
      access();
      synchronized (bytes) {
        dst.put(bytes, (int) offsetBytes, dst.remaining());
      }
    }

    @Override
    public void write(ByteBuffer src, long offsetBytes) {
      access();
      writes.incrementAndGet();
      synchronized (bytes) {
        src.get(bytes, (int) offsetBytes, src.remaining());
      }
    }

    @Override
    public void flush() {
      access();
    }
  }
}
