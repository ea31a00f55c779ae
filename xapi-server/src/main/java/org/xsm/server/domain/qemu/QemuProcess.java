package org.xsm.server.domain.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;
import org.xsm.server.domain.DomainListener;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.qemu.Qmp.QmpException;

/**
 * One running QEMU (a domain): its process, found by pid, and its monitor connection. The process
 * is not a child of the server (it daemonized), so it is watched through the monitor: when the
 * connection ends, QEMU has exited. How it ended is told to the listener unless the server ended it
 * itself: after a {@code SHUTDOWN} event from the guest, a guest shutdown; otherwise a crash.
 */
final class QemuProcess {
  private static final Logger LOG = Logger.getLogger(QemuProcess.class);
  static final Duration QMP_TIMEOUT = Duration.ofSeconds(30);
  private static final java.util.Set<String> FINAL_MIGRATION_STATES =
      java.util.Set.of("completed", "failed", "cancelled");

  final DomainSpec spec;
  final DomainPaths paths;
  final ProcessHandle process;
  private volatile Qmp qmp;
  private volatile Optional<GuestChannel> agent = Optional.empty();
  private volatile boolean ending;
  private volatile boolean guestShutdown;
  private final BiConsumer<QemuProcess, DomainListener.Exit> onExit;

  /**
   * The end of the migration started last ({@link #watchMigration}): completed by QEMU's {@code
   * MIGRATION} event with a final status ({@code completed}, {@code failed}, {@code cancelled}), or
   * failed when QEMU exits first.
   */
  private volatile CompletableFuture<String> migrationEnd;

  /**
   * Completes when QEMU has exited: its monitor connection ends as it exits (QEMU closes it only
   * then; the kernel closes a process's sockets on exit), and the process is then seen gone or a
   * zombie in /proc. Waiting for the process handle instead is slow: QEMU daemonized, it is not our
   * child, and the JDK polls other processes' exits (first after 300 ms, then ever more slowly;
   * over 1.5 s was seen), and counts a zombie alive until it is reaped.
   */
  private final CompletableFuture<Void> monitorEnded = new CompletableFuture<>();

  private QemuProcess(
      DomainSpec spec,
      DomainPaths paths,
      ProcessHandle process,
      BiConsumer<QemuProcess, DomainListener.Exit> onExit) {
    this.spec = spec;
    this.paths = paths;
    this.process = process;
    this.onExit = onExit;
  }

  /** Connects to the monitor of the QEMU whose pid file {@code paths} names, if it runs. */
  static Optional<QemuProcess> attach(
      DomainSpec spec, DomainPaths paths, BiConsumer<QemuProcess, DomainListener.Exit> onExit)
      throws IOException {
    Optional<ProcessHandle> h = running(spec, paths);
    if (h.isEmpty()) {
      return Optional.empty();
    }
    QemuProcess q = new QemuProcess(spec, paths, h.get(), onExit);
    q.qmp = Qmp.connect(paths.qmp(), Duration.ofSeconds(10), spec.vmUuid(), q::event, q::closed);
    return Optional.of(q);
  }

  /** The QEMU process whose pid file {@code paths} names, if it still runs. */
  static Optional<ProcessHandle> running(DomainSpec spec, DomainPaths paths) throws IOException {
    if (!Files.exists(paths.pidFile())) {
      return Optional.empty();
    }
    long pid = Long.parseLong(Files.readString(paths.pidFile(), StandardCharsets.US_ASCII).trim());
    // A recycled pid is some other process: ours has the VM's UUID on its command line.
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(
            p ->
                p.info()
                    .arguments()
                    .map(a -> String.join(" ", a).contains(spec.vmUuid()))
                    .orElse(false));
  }

  private void event(JsonNode e) {
    String name = e.path("event").asText();
    if (name.equals("SHUTDOWN") && e.path("data").path("guest").asBoolean(false)) {
      guestShutdown = true;
    }
    if (name.equals("MIGRATION")) {
      String status = e.path("data").path("status").asText();
      CompletableFuture<String> end = migrationEnd;
      if (end != null && FINAL_MIGRATION_STATES.contains(status)) {
        end.complete(status);
      }
    }
    LOG.debugf("domain %s: %s", spec.vmUuid(), e);
  }

  private void closed() {
    CompletableFuture<String> end = migrationEnd;
    if (end != null) {
      end.completeExceptionally(new IOException("QEMU exited during the migration"));
    }
    awaitExitSyscall();
    monitorEnded.complete(null);
    // QEMU closes the monitor only by exiting; wait for the process to be gone.
    process
        .onExit()
        .thenRun(
            () -> {
              if (!ending) {
                onExit.accept(
                    this,
                    guestShutdown ? DomainListener.Exit.GUEST_SHUTDOWN : DomainListener.Exit.CRASH);
              }
            });
  }

  /**
   * After the monitor ended: waits (at most 5 s, checking every millisecond) until the process has
   * exited, i.e. its {@code /proc} entry is gone or a zombie. The sockets close a moment before the
   * process finishes exiting; a zombie has exited (its parent, init since QEMU daemonized, reaps it
   * when it will, and {@link ProcessHandle#isAlive} counts it alive until then).
   */
  private void awaitExitSyscall() {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!exitedPerProc(process.pid()) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Whether {@code /proc} shows the process gone or a zombie (true where there is no /proc). */
  static boolean exitedPerProc(long pid) {
    try {
      String stat = Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
    } catch (IOException | RuntimeException e) {
      return true; // no such process (or no /proc to tell)
    }
  }

  /**
   * Completes once QEMU has exited (its monitor connection ended, the process a zombie or gone).
   */
  CompletableFuture<Void> exited() {
    return monitorEnded;
  }

  /**
   * Watches for the end of the migration about to start (incoming or outgoing): call before {@code
   * migrate} or {@code migrate-incoming}, with QEMU's {@code events} migration capability on. The
   * future completes with the final status; {@link #migrationEnd} answers it later too.
   */
  CompletableFuture<String> watchMigration() {
    CompletableFuture<String> end = new CompletableFuture<>();
    migrationEnd = end;
    if (qmp.isClosed()) {
      end.completeExceptionally(new IOException("QEMU has exited"));
    }
    return end;
  }

  /** The end of the migration last watched, if one was. */
  Optional<CompletableFuture<String>> migrationEnd() {
    return Optional.ofNullable(migrationEnd);
  }

  /** Reads the guest's agent port, telling {@code listener} what the guest says. */
  void openAgent(GuestChannel.Reports listener) {
    agent = GuestChannel.open(paths.agent(), spec.vmUuid(), listener);
  }

  /** Marks the end as the server's doing: the listener is not told. */
  void expectEnd() {
    ending = true;
  }

  /** An end the server asked for did not come (a clean shutdown timed out). */
  void expectStillRunning() {
    ending = false;
  }

  JsonNode execute(String command, Map<String, ?> args) throws QmpException {
    return qmp.execute(command, args, QMP_TIMEOUT);
  }

  /** The monitor's {@code query-status} status ("running", "paused", "postmigrate", ...). */
  String status() throws QmpException {
    return execute("query-status", null).path("status").asText();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Kills the process (SIGKILL) and waits for it to be gone. */
  void kill() {
    expectEnd();
    process.destroyForcibly();
    try {
      monitorEnded.get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warnf("QEMU %d of VM %s did not exit after SIGKILL: %s", process.pid(), spec.vmUuid(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeMonitor();
  }

  void closeMonitor() {
    agent.ifPresent(GuestChannel::close);
    try {
      qmp.close();
    } catch (IOException e) {
      LOG.debugf("closing the monitor of %s: %s", spec.vmUuid(), e);
    }
  }
}
