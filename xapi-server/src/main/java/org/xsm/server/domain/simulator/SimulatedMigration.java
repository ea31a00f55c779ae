package org.xsm.server.domain.simulator;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;
import org.xsm.server.domain.DomainException;
import org.xsm.server.domain.DomainException.Reason;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.Domains.IncomingMigration;
import org.xsm.server.domain.Domains.MigrationEndpoint;
import org.xsm.server.domain.Domains.MigrationResult;

/**
 * Live migration of simulated domains: the memory image goes over a TCP connection to the
 * destination's listener, which acknowledges it once it holds it all. The source guest is paused
 * for the whole copy (it is {@link MemoryImages#SIZE_BYTES}, small: no pre-copy), runs on if the
 * copy fails, and is dropped once it is acknowledged.
 *
 * <p>The stream: {@link #MAGIC}, the VM's UUID ({@code writeUTF}), whether it ran, the image's
 * length; the destination answers why it refuses ({@code writeUTF}, empty when it does not); then
 * the image's bytes, which the destination acknowledges with one byte, {@code 1}.
 */
final class SimulatedMigration {
  private static final Logger LOG = Logger.getLogger(SimulatedMigration.class);
  private static final long MAGIC = 0x5853_4d53_494d_3031L; // "XSMSIM01"
  private static final int TIMEOUT_MS = 30_000;

  /** A received image: its bytes and whether the guest ran when it left. */
  private record Received(byte[] image, boolean running) {}

  /** A domain waiting for its stream. */
  private record Incoming(
      DomainSpec spec, ServerSocket listener, CompletableFuture<Received> received) {}

  private final MemoryImages memory;
  private final String listenAddress;
  private final Map<String, Incoming> incoming = new ConcurrentHashMap<>();

  SimulatedMigration(MemoryImages memory, String listenAddress) {
    this.memory = memory;
    this.listenAddress = listenAddress;
  }

  boolean waiting(String vmUuid) {
    return incoming.containsKey(vmUuid);
  }

  IncomingMigration prepareIncoming(DomainSpec spec) throws DomainException {
    String vm = spec.vmUuid();
    if (memory.snapshot(vm) != null || incoming.containsKey(vm)) {
      throw new DomainException(Reason.FAILED, "VM " + vm + " already has a domain on this host");
    }
    ServerSocket listener;
    try {
      listener = new ServerSocket(0, 1, InetAddress.getByName(listenAddress));
    } catch (IOException e) {
      throw new DomainException(
          Reason.FAILED, "VM " + vm + ": cannot listen on " + listenAddress + ": " + e, e);
    }
    Incoming in = new Incoming(spec, listener, new CompletableFuture<>());
    incoming.put(vm, in);
    Thread t = new Thread(() -> receive(vm, in), "sim-migration-in-" + vm);
    t.setDaemon(true);
    t.start();
    return new IncomingMigration(vm, new MigrationEndpoint(listenAddress, listener.getLocalPort()));
  }

  private void receive(String vm, Incoming in) {
    try (ServerSocket l = in.listener();
        Socket s = l.accept()) {
      s.setSoTimeout(TIMEOUT_MS);
      DataInputStream din = new DataInputStream(s.getInputStream());
      DataOutputStream answer = new DataOutputStream(s.getOutputStream());
      String refused = null;
      if (din.readLong() != MAGIC) {
        refused = "not a simulated domain's migration stream";
      }
      String sent = refused == null ? din.readUTF() : "";
      boolean running = refused == null && din.readBoolean();
      int length = refused == null ? din.readInt() : 0;
      if (refused == null && !sent.equals(vm)) {
        refused = "this host waits for VM " + vm + ", not VM " + sent;
      } else if (refused == null && length != MemoryImages.SIZE_BYTES) {
        refused = "a memory image of " + length + " bytes, not " + MemoryImages.SIZE_BYTES;
      }
      answer.writeUTF(refused == null ? "" : refused);
      answer.flush();
      if (refused != null) {
        throw new IOException(refused);
      }
      byte[] image = new byte[length];
      din.readFully(image);
      in.received().complete(new Received(image, running));
      answer.write(1);
      answer.flush();
    } catch (IOException e) {
      in.received().completeExceptionally(e);
      LOG.infof("VM %s: incoming migration failed: %s", vm, e.getMessage());
    }
  }

  MigrationResult migrateOut(String vmUuid, MigrationEndpoint to, Duration downtimeLimit)
      throws DomainException {
    if (memory.snapshot(vmUuid) == null) {
      throw new DomainException(Reason.NO_DOMAIN, "no domain for VM " + vmUuid);
    }
    long t0 = System.nanoTime();
    boolean wasRunning = memory.running(vmUuid);
    memory.setRunning(vmUuid, false);
    byte[] image = memory.snapshot(vmUuid);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(to.host(), to.port()), TIMEOUT_MS);
      s.setSoTimeout(TIMEOUT_MS);
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeLong(MAGIC);
      out.writeUTF(vmUuid);
      out.writeBoolean(wasRunning);
      out.writeInt(image.length);
      out.flush();
      DataInputStream answer = new DataInputStream(s.getInputStream());
      String refused = answer.readUTF();
      if (!refused.isEmpty()) {
        throw new IOException("the destination refused the stream: " + refused);
      }
      out.write(image);
      out.flush();
      if (answer.read() != 1) {
        throw new IOException("the destination did not acknowledge the memory image");
      }
    } catch (IOException e) {
      memory.setRunning(vmUuid, wasRunning);
      throw new DomainException(
          Reason.FAILED,
          "migrating VM " + vmUuid + " to " + to + ": " + e.getMessage() + "; it runs on here",
          e);
    }
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    memory.drop(vmUuid);
    return new MigrationResult(took, took, image.length, wasRunning);
  }

  /** Waits for the stream and runs the domain (unless {@code paused}); the spec it came with. */
  DomainSpec finishIncoming(String vmUuid, boolean paused, Duration timeout)
      throws DomainException {
    Incoming in = incoming.get(vmUuid);
    if (in == null) {
      throw new DomainException(
          Reason.NO_DOMAIN, "VM " + vmUuid + " does not wait for a migration here");
    }
    String why;
    try {
      Received r = in.received().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      memory.restore(vmUuid, r.image(), !paused);
      incoming.remove(vmUuid);
      return in.spec();
    } catch (ExecutionException e) {
      why = e.getCause().getMessage();
    } catch (TimeoutException e) {
      why = "no migration stream within " + timeout;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      why = "interrupted";
    }
    abort(vmUuid);
    throw new DomainException(Reason.FAILED, "VM " + vmUuid + ": " + why + "; destroyed here");
  }

  /** Ends a wait for a stream (the domain is destroyed). */
  void abort(String vmUuid) {
    Incoming in = incoming.remove(vmUuid);
    if (in != null) {
      try {
        in.listener().close();
      } catch (IOException e) {
        LOG.debugf("closing the migration listener of VM %s: %s", vmUuid, e);
      }
      in.received().cancel(false);
    }
  }
}
