package org.xsm.iscsi.initiator;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One logged-in iSCSI connection in the full feature phase, the only connection of its session
 * (MaxConnections=1, ErrorRecoveryLevel=0).
 *
 * <p>Threads: callers submit commands from any thread; one reader thread receives every PDU and
 * completes the tasks by their initiator task tag, copying Data-In straight into the caller's
 * buffer; one worker answers R2Ts with Data-Out and NOP-Ins with NOP-Outs, so that the reader never
 * blocks on the socket's send side; a watchdog pings an idle target (NOP-Out) and declares the
 * connection dead when a task or ping outlives the command timeout. Sending is serialized by one
 * lock; a command waits outside that lock while the target's CmdSN window (MaxCmdSN) is closed.
 *
 * <p>Failure: any I/O error, protocol violation or timeout closes the socket and completes every
 * outstanding task exceptionally with a retryable {@link IscsiException}; the {@link IscsiSession}
 * above logs in again and reissues them. This object is not reused after a failure.
 */
final class IscsiConnection implements AutoCloseable {
  private static final long WINDOW_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

  private final InitiatorConfig config;
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final NegotiatedParameters parameters;
  private final ReentrantLock sendLock = new ReentrantLock();
  private final Map<Integer, Task> tasks = new ConcurrentHashMap<>();
  private final AtomicInteger nextTag = new AtomicInteger(1);
  private final ExecutorService worker;
  private final PduRouter router;
  private final ScheduledExecutorService watchdog;
  private final long timeoutNanos;
  private final long pingAfterNanos;
  private int cmdSn; // guarded by sendLock
  private volatile int maxCmdSn;
  private volatile int expStatSn;
  private volatile long lastReceiveNanos = System.nanoTime();
  private volatile IOException failure;
  private volatile Task ping;

  /** Why the last logout did not complete, kept for debugging only. */
  private volatile Exception logoutFailure;

  private IscsiConnection(
      InitiatorConfig config,
      Socket socket,
      InputStream in,
      OutputStream out,
      LoginNegotiator.Result login) {
    this.config = config;
    this.socket = socket;
    this.in = in;
    this.out = out;
    this.parameters = login.parameters();
    this.cmdSn = login.cmdSn();
    this.maxCmdSn = login.maxCmdSn();
    this.expStatSn = login.expStatSn();
    this.timeoutNanos = config.commandTimeout().toNanos();
    this.pingAfterNanos = Math.min(TimeUnit.SECONDS.toNanos(10), timeoutNanos / 2);
    String name = "iscsi-" + config.portal();
    this.worker = Executors.newSingleThreadExecutor(r -> daemon(r, name + "-worker"));
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, name + "-watchdog"));
    this.router = new PduRouter(this, tasks, worker);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /**
   * Connects to the portal and logs in.
   *
   * @param isid the session's initiator part of the session ID; the same ISID with TSIH 0
   *     reinstates (replaces) an earlier session of ours after a lost connection
   * @param discovery a discovery session (SendTargets only) instead of a normal one
   */
  static IscsiConnection open(InitiatorConfig config, byte[] isid, boolean discovery)
      throws IOException {
    Socket socket = new Socket();
    try {
      int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, config.commandTimeout().toMillis());
      socket.connect(new InetSocketAddress(config.host(), config.port()), timeoutMillis);
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(timeoutMillis);
      InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 18);
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 18);
      LoginNegotiator.Result login = new LoginNegotiator(in, out, config, isid, discovery).login();
      socket.setSoTimeout(0);
      IscsiConnection c = new IscsiConnection(config, socket, in, out, login);
      c.start();
      return c;
    } catch (IOException | RuntimeException e) {
      socket.close();
      if (e instanceof IscsiException) {
        throw e;
      }
      throw new IscsiException(
          "cannot log in to " + config.portal() + ": " + e.getMessage(), true, e);
    }
  }

  private void start() {
    Thread reader = daemon(this::readLoop, "iscsi-" + config.portal() + "-reader");
    reader.start();
    long tick = Math.max(TimeUnit.MILLISECONDS.toNanos(100), timeoutNanos / 20);
    watchdog.scheduleWithFixedDelay(this::watch, tick, tick, TimeUnit.NANOSECONDS);
  }

  NegotiatedParameters parameters() {
    return parameters;
  }

  boolean failed() {
    return failure != null;
  }

  /**
   * Sends a SCSI command; the future completes with the target's status (any status, GOOD or not)
   * once all data has moved, or exceptionally with a retryable {@link IscsiException} if the
   * connection fails first.
   */
  CompletableFuture<Task.Outcome> submit(ScsiCommand command) {
    Task task = new Task(nextTag(), command, System.nanoTime() + timeoutNanos);
    tasks.put(task.tag, task);
    try {
      sendCommand(task);
    } catch (IOException e) {
      fail(e);
    }
    if (failure != null) {
      task.fail(lost());
    }
    return task.future;
  }

  private int nextTag() {
    int tag;
    do {
      tag = nextTag.getAndIncrement();
    } while (tag == Pdu.NO_TAG || tag == 0);
    return tag;
  }

  private void sendCommand(Task task) throws IOException {
    ScsiCommand command = task.command;
    int length = command.expectedLength();
    boolean write = command.direction() == ScsiCommand.Direction.WRITE;
    int immediate =
        write && parameters.immediateData()
            ? Math.min(length, Math.min(parameters.firstBurstLength(), maxSegment()))
            : 0;
    int unsolicitedEnd =
        write && !parameters.initialR2T()
            ? Math.min(length, parameters.firstBurstLength())
            : immediate;
    while (true) {
      if (failure != null) {
        throw lost();
      }
      sendLock.lock();
      try {
        if (maxCmdSn - cmdSn >= 0) {
          Pdu pdu =
              ScsiPdus.command(task, immediate, unsolicitedEnd > immediate, cmdSn++, expStatSn);
          pdu.writeTo(out);
          if (unsolicitedEnd > immediate) {
            ScsiPdus.writeDataOut(
                out,
                task,
                Pdu.NO_TAG,
                immediate,
                unsolicitedEnd - immediate,
                maxSegment(),
                expStatSn);
          }
          out.flush();
          return;
        }
      } finally {
        sendLock.unlock();
      }
      if (System.nanoTime() > task.deadlineNanos) {
        throw new IscsiException(
            "the target's command window stayed closed for "
                + config.commandTimeout().toSeconds()
                + " s",
            true,
            null);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(WINDOW_POLL_NANOS);
    }
  }

  private int maxSegment() {
    return Math.max(512, parameters.maxSendDataSegmentLength());
  }

  /**
   * Sends a text request and collects the whole answer (following C-bit continuations), e.g. {@code
   * SendTargets=All}.
   */
  List<TextKeys.Pair> text(Map<String, String> keys) throws IOException {
    List<TextKeys.Pair> pairs = new ArrayList<>();
    int transferTag = Pdu.NO_TAG;
    Map<String, String> send = keys;
    Pdu response;
    int tag = nextTag();
    do {
      Pdu pdu = Pdu.request(Pdu.TEXT_REQUEST, false);
      pdu.flags(0x80);
      pdu.intAt(20, transferTag);
      pdu.data(TextKeys.encode(send));
      Task task = request(pdu, tag, true, timeoutNanos);
      response = task.await().pdu();
      pairs.addAll(TextKeys.decodePairs(response.data));
      transferTag = response.intAt(20);
      send = Map.of();
    } while ((response.flags() & 0x40) != 0);
    return pairs;
  }

  /** Sends an immediate NOP-Out that the target must answer; the task completes with its NOP-In. */
  private Task sendPing() throws IOException {
    return request(nop(Pdu.NO_TAG), nextTag(), false, timeoutNanos);
  }

  private static Pdu nop(int targetTransferTag) {
    Pdu pdu = Pdu.request(Pdu.NOP_OUT, true);
    pdu.flags(0x80);
    pdu.intAt(20, targetTransferTag);
    return pdu;
  }

  /**
   * Sends a request that the target answers with one PDU (text, NOP-Out ping, logout); the returned
   * task completes with that answer.
   *
   * @param advance whether the request takes a CmdSN (non-immediate) or only carries it
   */
  private Task request(Pdu pdu, int tag, boolean advance, long timeout) throws IOException {
    Task task = new Task(tag, null, System.nanoTime() + timeout);
    tasks.put(tag, task);
    pdu.initiatorTaskTag(tag);
    send(pdu, advance);
    return task;
  }

  /** Writes a non-SCSI PDU, stamping CmdSN and ExpStatSN; any failure ends the connection. */
  private void send(Pdu pdu, boolean advance) throws IOException {
    sendLock.lock();
    try {
      pdu.intAt(24, advance ? cmdSn++ : cmdSn);
      pdu.intAt(28, expStatSn);
      pdu.writeTo(out);
      out.flush();
    } catch (IOException e) {
      fail(e);
      throw e;
    } finally {
      sendLock.unlock();
    }
  }

  /** Round trip of an immediate NOP-Out; fails like a command when the target does not answer. */
  void ping() throws IOException {
    sendPing().await();
  }

  private void readLoop() {
    try {
      while (failure == null) {
        Pdu pdu = Pdu.readFrom(in, router::dataInTarget);
        lastReceiveNanos = System.nanoTime();
        router.dispatch(pdu);
      }
    } catch (IOException e) {
      fail(e);
    } catch (RuntimeException e) {
      fail(new IscsiException("initiator fault reading from " + config.portal(), true, e));
    }
  }

  /** Called by the reader when a task's final status arrived. */
  void finished(Task task, int statSn) {
    statSn(statSn);
    tasks.remove(task.tag);
  }

  void statSn(int statSn) {
    if (statSn + 1 - expStatSn > 0) {
      expStatSn = statSn + 1;
    }
  }

  void window(int expCmdSn, int newMaxCmdSn) {
    // RFC 7143 4.2.2.1: ignore MaxCmdSN when MaxCmdSN < ExpCmdSN - 1 (serial arithmetic)
    if (newMaxCmdSn - (expCmdSn - 1) >= 0 && newMaxCmdSn - maxCmdSn > 0) {
      maxCmdSn = newMaxCmdSn;
    }
  }

  /** Sends the Data-Out an R2T asked for (on the worker thread). */
  void answerR2T(Task task, int ttt, int offset, int length) {
    if (!tasks.containsKey(task.tag)) {
      return;
    }
    sendLock.lock();
    try {
      ScsiPdus.writeDataOut(out, task, ttt, offset, length, maxSegment(), expStatSn);
      out.flush();
    } catch (IOException e) {
      fail(e);
    } finally {
      sendLock.unlock();
    }
  }

  /** Answers a target's NOP-In ping (on the worker thread). */
  void answerNop(int targetTransferTag) {
    try {
      Pdu pdu = nop(targetTransferTag);
      pdu.initiatorTaskTag(Pdu.NO_TAG);
      send(pdu, false);
    } catch (IOException e) {
      // send() has already failed the connection; the session logs in again on next use.
      return;
    }
  }

  private void watch() {
    if (failure != null) {
      return;
    }
    long now = System.nanoTime();
    for (Task t : tasks.values()) {
      if (now - t.deadlineNanos > 0) {
        fail(
            new IscsiException(
                "no answer from "
                    + config.portal()
                    + " within "
                    + config.commandTimeout().toMillis()
                    + " ms",
                true,
                null));
        return;
      }
    }
    Task p = ping;
    if (now - lastReceiveNanos > pingAfterNanos && (p == null || p.future.isDone())) {
      try {
        ping = sendPing();
      } catch (IOException e) {
        fail(e);
      }
    }
  }

  IscsiException lost() {
    IOException cause = failure;
    if (cause instanceof IscsiException ie && ie.retryable()) {
      return ie;
    }
    return new IscsiException(
        "connection to " + config.portal() + " lost: " + cause.getMessage(), true, cause);
  }

  /** Marks the connection dead, closes it, and fails all outstanding tasks. Idempotent. */
  void fail(IOException cause) {
    synchronized (this) {
      if (failure != null) {
        return;
      }
      failure = cause;
    }
    try {
      socket.close();
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
    worker.shutdownNow();
    watchdog.shutdownNow();
    IscsiException lost = lost();
    for (Task t : tasks.values()) {
      t.fail(lost);
    }
    tasks.clear();
  }

  /** Logs out (waiting a few seconds at most), then closes the socket. */
  @Override
  public void close() {
    if (failure != null) {
      return;
    }
    try {
      Pdu pdu = Pdu.request(Pdu.LOGOUT_REQUEST, true);
      pdu.flags(0x80); // reason 0: close the session
      Task task = request(pdu, nextTag(), false, TimeUnit.SECONDS.toNanos(5));
      task.future.get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException
        | java.util.concurrent.ExecutionException
        | java.util.concurrent.TimeoutException e) {
      // Logout is a courtesy: the target drops the session when the socket closes anyway, so a
      // failed logout changes nothing for the caller and is not reported.
      logoutFailure = e;
    }
    fail(new IscsiException("connection closed by the initiator"));
  }
}
