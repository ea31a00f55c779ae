package org.xsm.iscsi.initiator;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A normal iSCSI session with one target, surviving lost connections: when the connection fails
 * (socket error, target restart, command timeout, target's logout request) the session logs in
 * again with the same ISID (session reinstatement, RFC 7143 section 6.3.5) and reissues every
 * command that had not completed, for up to {@link InitiatorConfig#reconnectTimeout()}.
 *
 * <p>Reissuing is safe because every command this initiator sends is idempotent (READ, WRITE of the
 * same data to the same blocks, SYNCHRONIZE CACHE, UNMAP, inquiries). A write that was half done
 * when the connection broke is written again whole; a flush is only reported done after a
 * SYNCHRONIZE CACHE completed on a live connection, so nothing acknowledged as durable depends on
 * the lost connection.
 *
 * <p>Thread-safe. At most {@link InitiatorConfig#maxCommandsInFlight()} commands are outstanding.
 */
public final class IscsiSession implements AutoCloseable {
  private static final int MAX_TRANSIENT_RETRIES = 20;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final InitiatorConfig config;
  private final byte[] isid;
  private final Semaphore inFlight;
  private final AtomicInteger reconnects = new AtomicInteger();
  private IscsiConnection connection; // guarded by this
  private boolean closed; // guarded by this

  private IscsiSession(InitiatorConfig config, IscsiConnection first, byte[] isid) {
    this.config = config;
    this.connection = first;
    this.isid = isid;
    this.inFlight = new Semaphore(config.maxCommandsInFlight());
  }

  /**
   * Logs in to {@code config.targetIqn()}. The first login is not retried: a wrong portal, target
   * name or CHAP secret fails at once with the target's reason.
   */
  public static IscsiSession login(InitiatorConfig config) throws IOException {
    if (config.targetIqn() == null) {
      throw new IllegalArgumentException("a session needs a target IQN");
    }
    byte[] isid = new byte[6];
    RANDOM.nextBytes(isid);
    isid[0] = (byte) (0x80 | (isid[0] & 0x3f)); // type 10b: random ISID (RFC 7143 11.12.5)
    return new IscsiSession(config, IscsiConnection.open(config, isid, false), isid);
  }

  public InitiatorConfig config() {
    return config;
  }

  /** What the current connection negotiated. */
  public synchronized NegotiatedParameters parameters() throws IOException {
    return connection().parameters();
  }

  /** How many times the session has logged in again after losing its connection. */
  public int reconnects() {
    return reconnects.get();
  }

  /**
   * Runs a command to completion, retrying on a new connection when the connection fails and when
   * the target reports a transient condition (UNIT ATTENTION after a reset, BUSY, TASK SET FULL).
   *
   * @throws ScsiStatusException when the target completes it with another status
   * @throws IscsiException when no connection could be made within the reconnect timeout
   */
  public void execute(ScsiCommand command) throws IOException {
    finish(command, null);
  }

  /**
   * Runs several commands with up to {@code maxCommandsInFlight} of them outstanding at once, and
   * returns when all have completed; the first failure is thrown after all have ended.
   */
  public void executeAll(List<ScsiCommand> commands) throws IOException {
    List<CompletableFuture<Task.Outcome>> first = new ArrayList<>(commands.size());
    for (ScsiCommand c : commands) {
      first.add(submitOnce(c));
    }
    IOException failure = null;
    for (int i = 0; i < commands.size(); i++) {
      try {
        finish(commands.get(i), first.get(i));
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private CompletableFuture<Task.Outcome> submitOnce(ScsiCommand command) throws IOException {
    try {
      inFlight.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to send " + command.name());
    }
    CompletableFuture<Task.Outcome> f;
    try {
      f = connection().submit(command);
    } catch (IOException | RuntimeException e) {
      inFlight.release();
      throw e;
    }
    f.whenComplete((o, e) -> inFlight.release());
    return f;
  }

  private Task.Outcome finish(ScsiCommand command, CompletableFuture<Task.Outcome> pending)
      throws IOException {
    int transients = 0;
    CompletableFuture<Task.Outcome> attempt = pending;
    while (true) {
      Task.Outcome outcome;
      try {
        if (attempt == null) {
          attempt = submitOnce(command);
        }
        outcome = Task.await(attempt);
      } catch (IscsiException e) {
        if (!e.retryable() || isClosed()) {
          throw e;
        }
        attempt = null;
        continue; // connection() logs in again
      }
      attempt = null;
      if (outcome.status() == ScsiStatusException.GOOD) {
        if (outcome.residual() != 0 && command.transfersExactly()) {
          throw new IscsiException(
              command.name()
                  + " on LUN "
                  + command.lun()
                  + " moved "
                  + (outcome.residual() > 0 ? "fewer" : "more")
                  + " bytes than asked (residual "
                  + outcome.residual()
                  + ")");
        }
        return outcome;
      }
      ScsiStatusException e =
          new ScsiStatusException(
              command.name() + " on LUN " + command.lun(), outcome.status(), outcome.sense());
      if (!e.transientCondition() || ++transients > MAX_TRANSIENT_RETRIES) {
        throw e;
      }
      if (!e.senseKey(SenseData.UNIT_ATTENTION)) {
        sleep(TimeUnit.MILLISECONDS.toNanos(20L * transients));
      }
    }
  }

  private synchronized boolean isClosed() {
    return closed;
  }

  /** The live connection, logging in again first if the last one failed. */
  private synchronized IscsiConnection connection() throws IOException {
    if (closed) {
      throw new IscsiException("session with " + config.targetIqn() + " is closed");
    }
    if (!connection.failed()) {
      return connection;
    }
    long deadline = System.nanoTime() + config.reconnectTimeout().toNanos();
    long backoff = TimeUnit.MILLISECONDS.toNanos(50);
    IOException last = connection.lost();
    while (System.nanoTime() - deadline < 0) {
      try {
        connection = IscsiConnection.open(config, isid, false);
        reconnects.incrementAndGet();
        return connection;
      } catch (IOException e) {
        // Right after a target restart the portal may accept connections before the target is
        // configured again ("no such target"), so every login failure is retried until the
        // deadline; the last one is reported.
        last = e;
      }
      sleep(backoff);
      backoff = Math.min(backoff * 2, TimeUnit.SECONDS.toNanos(1));
    }
    throw new IscsiException(
        "lost the connection to "
            + config.targetIqn()
            + " at "
            + config.portal()
            + " and could not log in again within "
            + config.reconnectTimeout().toSeconds()
            + " s: "
            + last.getMessage(),
        false,
        last);
  }

  private static void sleep(long nanos) throws InterruptedIOException {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while retrying");
    }
  }

  /** Sends a NOP-Out ping and waits for the answer (checks the connection is alive). */
  public void ping() throws IOException {
    connection().ping();
  }

  /** The LUNs the target reports (REPORT LUNS, sent to LUN 0). */
  public List<Integer> reportLuns() throws IOException {
    ByteBuffer data = ByteBuffer.allocate(8 + 8 * 256);
    execute(
        new ScsiCommand(
            "REPORT LUNS", 0, Cdbs.reportLuns(data.remaining()), ScsiCommand.Direction.READ, data));
    int listBytes = data.getInt(0);
    List<Integer> luns = new ArrayList<>();
    for (int at = 8; at < Math.min(8 + listBytes, data.capacity()); at += 8) {
      int first = data.getShort(at) & 0xffff;
      luns.add((first & 0xc000) == 0x4000 ? first & 0x3fff : first & 0xff);
    }
    return luns;
  }

  /** Logs out and closes the connection; the session is unusable afterwards. */
  @Override
  public void close() {
    IscsiConnection c;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      c = connection;
    }
    c.close();
  }
}
