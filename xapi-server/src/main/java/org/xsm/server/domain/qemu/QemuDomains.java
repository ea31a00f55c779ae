package org.xsm.server.domain.qemu;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.jboss.logging.Logger;
import org.xsm.api.VdiDevice;
import org.xsm.server.domain.DomainException;
import org.xsm.server.domain.DomainException.Reason;
import org.xsm.server.domain.DomainListener;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.Domains;
import org.xsm.server.domain.qemu.Qmp.QmpException;
import org.xsm.server.runtime.RunDirectory;

/**
 * Domains as QEMU processes (KVM where it works, else TCG). Each domain's spec is written to its
 * state directory before QEMU starts, and QEMU daemonizes with a pid file, so the process survives
 * the server (a clean stop or a kill -9) and a later server adopts it ({@link #adopt}): it reads
 * the spec, checks the pid is still that QEMU, and reconnects to the monitor.
 *
 * <p>Memory images go through QEMU's migration stream ({@link MemoryStream}); a restore starts the
 * same machine with {@code -incoming defer} and feeds the stream back.
 */
public final class QemuDomains implements Domains {
  private static final Logger LOG = Logger.getLogger(QemuDomains.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration POWER_BUTTON_REPEAT = Duration.ofSeconds(2);

  private final QemuInstallation qemu;
  private final RunDirectory run;
  private final Path stateRoot;
  private final Map<String, QemuProcess> domains = new ConcurrentHashMap<>();
  private final QemuMigration migration;
  private volatile DomainListener listener = (vm, exit, detail) -> {};

  public QemuDomains(QemuInstallation qemu, RunDirectory run, Path stateRoot) {
    this(qemu, run, stateRoot, "127.0.0.1");
  }

  /**
   * @param migrationAddress the address this host's incoming migrations listen on (the host's
   *     address in a pool)
   */
  public QemuDomains(
      QemuInstallation qemu, RunDirectory run, Path stateRoot, String migrationAddress) {
    this.qemu = qemu;
    this.run = run;
    this.stateRoot = stateRoot;
    this.migration = new QemuMigration(this, migrationAddress);
  }

  @Override
  public Kind kind() {
    return Kind.QEMU;
  }

  @Override
  public Optional<Path> console(String vmUuid, Console which) {
    QemuProcess q = domains.get(vmUuid);
    if (q == null) {
      return Optional.empty();
    }
    try {
      DomainPaths p = paths(vmUuid);
      return Optional.of(which == Console.SCREEN ? p.vnc() : p.serial());
    } catch (IOException e) {
      LOG.warnf(e, "VM %s: no console, the run directory is unusable", vmUuid);
      return Optional.empty();
    }
  }

  DomainPaths paths(String vmUuid) throws IOException {
    return new DomainPaths(stateRoot.resolve(vmUuid), run.path(), vmUuid);
  }

  @Override
  public void create(DomainSpec spec, boolean paused, Optional<VdiDevice> memory)
      throws DomainException {
    try {
      QemuProcess q = start(spec, paused, memory.isPresent(), false);
      if (memory.isPresent()) {
        QemuMemoryImage.restore(q, memory.get());
        if (!paused) {
          q.execute("cont", null);
        }
      }
    } catch (IOException | QmpException e) {
      failedStart(spec.vmUuid());
      throw new DomainException(
          Reason.FAILED, "QEMU for VM " + spec.vmUuid() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes the spec, starts QEMU ({@code incoming}: waiting for a migration stream; {@code
   * migrationTarget}: one from another host, marked so that a restarted server does not adopt it)
   * and connects to its monitor; the domain is then managed. The caller cleans up on failure.
   */
  QemuProcess start(DomainSpec spec, boolean paused, boolean incoming, boolean migrationTarget)
      throws IOException {
    DomainPaths p = paths(spec.vmUuid());
    Files.createDirectories(p.state());
    Files.deleteIfExists(p.pidFile());
    Files.writeString(p.specFile(), JSON.writeValueAsString(spec));
    if (migrationTarget) {
      Files.writeString(p.incomingMarker(), "");
    }
    launch(QemuCommand.of(qemu, spec, p, paused, incoming), spec);
    QemuProcess q =
        QemuProcess.attach(spec, p, this::ended)
            .orElseThrow(() -> new IOException("QEMU started but its pid is not running"));
    domains.put(spec.vmUuid(), q);
    q.openAgent(this::guestAddress);
    return q;
  }

  private void launch(List<String> command, DomainSpec spec) throws IOException {
    // The daemonizing parent exits once the machine is built (or with the reason it cannot be).
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("QEMU did not finish starting within 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while QEMU started", e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (p.exitValue() != 0) {
      throw new IOException("QEMU exited with " + p.exitValue() + ": " + out);
    }
    LOG.infof(
        "VM %s (%s): QEMU started%s", spec.vmUuid(), spec.name(), out.isEmpty() ? "" : ": " + out);
  }

  private void failedStart(String vmUuid) {
    QemuProcess q = domains.remove(vmUuid);
    if (q != null) {
      q.kill();
    }
    cleanUp(vmUuid);
  }

  /** The domain's QEMU, alive or not, while this server manages it. */
  Optional<QemuProcess> find(String vmUuid) {
    return Optional.ofNullable(domains.get(vmUuid));
  }

  QemuProcess domain(String vmUuid) throws DomainException {
    QemuProcess q = domains.get(vmUuid);
    if (q == null || !q.alive()) {
      throw new DomainException(Reason.NO_DOMAIN, "no QEMU runs VM " + vmUuid);
    }
    return q;
  }

  @Override
  public void pause(String vmUuid) throws DomainException {
    command(vmUuid, "stop");
  }

  @Override
  public void unpause(String vmUuid) throws DomainException {
    command(vmUuid, "cont");
  }

  private void command(String vmUuid, String command) throws DomainException {
    try {
      domain(vmUuid).execute(command, null);
    } catch (QmpException e) {
      throw new DomainException(Reason.FAILED, e.getMessage(), e);
    }
  }

  @Override
  public void shutdown(String vmUuid, Duration timeout) throws DomainException {
    QemuProcess q = domain(vmUuid);
    q.expectEnd();
    try {
      // xapi's request (xenstore control/shutdown) waits until the guest reads it; an ACPI press
      // before the guest listens (still booting) is lost. So the button is pressed again every
      // POWER_BUTTON_REPEAT until the guest is gone or the timeout ends.
      long deadline = System.nanoTime() + timeout.toNanos();
      boolean first = true;
      while (true) {
        try {
          q.execute("system_powerdown", null);
        } catch (QmpException e) {
          if (first) {
            throw e;
          }
          // A later press found the monitor gone: QEMU is ending (the guest acted on an earlier
          // press). Wait for it rather than fail.
          long left = deadline - System.nanoTime();
          q.exited().get(Math.max(0, left), TimeUnit.NANOSECONDS);
          break;
        }
        first = false;
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new TimeoutException();
        }
        try {
          q.exited().get(Math.min(left, POWER_BUTTON_REPEAT.toNanos()), TimeUnit.NANOSECONDS);
          break;
        } catch (TimeoutException again) {
          if (System.nanoTime() >= deadline) {
            throw again;
          }
        }
      }
    } catch (TimeoutException e) {
      q.expectStillRunning();
      throw new DomainException(
          Reason.SHUTDOWN_TIMEOUT, "VM " + vmUuid + " did not shut down within " + timeout, e);
    } catch (QmpException | ExecutionException e) {
      q.expectStillRunning();
      throw new DomainException(Reason.FAILED, "system_powerdown: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      q.expectStillRunning();
      throw new DomainException(Reason.FAILED, "interrupted", e);
    }
    q.closeMonitor();
    domains.remove(vmUuid);
    cleanUp(vmUuid);
  }

  @Override
  public void destroy(String vmUuid) {
    QemuProcess q = domains.remove(vmUuid);
    if (q != null) {
      q.kill();
    }
    cleanUp(vmUuid);
  }

  @Override
  public long memoryImageBytes(DomainSpec spec) {
    return QemuMemoryImage.bytes(spec);
  }

  @Override
  public void saveMemory(String vmUuid, VdiDevice image) throws DomainException {
    try {
      QemuMemoryImage.save(domain(vmUuid), image);
    } catch (IOException | QmpException | ExecutionException | TimeoutException e) {
      throw new DomainException(
          Reason.FAILED, "saving the memory of VM " + vmUuid + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DomainException(Reason.FAILED, "interrupted", e);
    }
  }

  @Override
  public Optional<DomainInfo> info(String vmUuid) {
    QemuProcess q = domains.get(vmUuid);
    if (q == null || !q.alive()) {
      return Optional.empty();
    }
    try {
      long vcpus = q.execute("query-cpus-fast", null).size();
      long memory = q.execute("query-memory-size-summary", null).path("base-memory").asLong();
      return Optional.of(new DomainInfo(vcpus, memory));
    } catch (QmpException e) {
      LOG.debugf("VM %s: no figures from QEMU: %s", vmUuid, e.getMessage());
      return Optional.empty();
    }
  }

  @Override
  public boolean exists(String vmUuid) {
    QemuProcess q = domains.get(vmUuid);
    return q != null && q.alive();
  }

  @Override
  public Set<DomainSpec> adopt() {
    Set<DomainSpec> found = new HashSet<>();
    if (!Files.isDirectory(stateRoot)) {
      return found;
    }
    try (Stream<Path> dirs = Files.list(stateRoot)) {
      for (Path dir : dirs.toList()) {
        String vmUuid = dir.getFileName().toString();
        try {
          DomainSpec spec =
              JSON.readValue(Files.readString(dir.resolve("domain.json")), DomainSpec.class);
          if (Files.exists(paths(vmUuid).incomingMarker())) {
            migration.endIncoming(spec);
            continue;
          }
          Optional<QemuProcess> q = QemuProcess.attach(spec, paths(vmUuid), this::ended);
          if (q.isPresent()) {
            domains.put(vmUuid, q.get());
            q.get().openAgent(this::guestAddress);
            found.add(spec);
            LOG.infof("VM %s: QEMU %d still runs; adopted", vmUuid, q.get().process.pid());
          } else {
            LOG.infof("VM %s: its QEMU is gone", vmUuid);
            cleanUp(vmUuid);
          }
        } catch (IOException e) {
          LOG.warnf(e, "VM %s: cannot adopt its domain; it is left as it is", vmUuid);
        }
      }
    } catch (IOException e) {
      LOG.errorf(e, "cannot list %s; no domain adopted", stateRoot);
    }
    return found;
  }

  @Override
  public IncomingMigration prepareIncoming(DomainSpec spec) throws DomainException {
    return migration.prepareIncoming(spec);
  }

  @Override
  public MigrationResult migrateOut(String vmUuid, MigrationEndpoint to, Duration downtimeLimit)
      throws DomainException {
    return migration.migrateOut(vmUuid, to, downtimeLimit);
  }

  @Override
  public void finishIncoming(String vmUuid, boolean paused, Duration timeout)
      throws DomainException {
    migration.finishIncoming(vmUuid, paused, timeout);
  }

  /** The domain's state went to another host: its QEMU here is ended and forgotten. */
  void migratedAway(QemuProcess q) {
    q.kill();
    domains.remove(q.spec.vmUuid(), q);
    cleanUp(q.spec.vmUuid());
  }

  @Override
  public void setListener(DomainListener listener) {
    this.listener = listener;
  }

  private void guestAddress(String vmUuid, String mac, String ipv4) {
    listener.guestAddress(vmUuid, mac, ipv4);
  }

  private void ended(QemuProcess q, DomainListener.Exit exit) {
    if (domains.remove(q.spec.vmUuid(), q)) {
      cleanUp(q.spec.vmUuid());
      LOG.infof("VM %s: QEMU ended (%s)", q.spec.vmUuid(), exit);
      listener.ended(q.spec.vmUuid(), exit, "QEMU process " + q.process.pid() + " ended");
    }
  }

  void cleanUp(String vmUuid) {
    try {
      DomainPaths p = paths(vmUuid);
      for (Path f : List.of(p.qmp(), p.serial(), p.vnc(), p.agent(), p.memoryFifo())) {
        Files.deleteIfExists(f);
      }
      if (Files.isDirectory(p.state())) {
        try (Stream<Path> s = Files.walk(p.state())) {
          for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(f);
          }
        }
      }
    } catch (IOException e) {
      LOG.warnf(e, "VM %s: leftover files of its domain could not be removed", vmUuid);
    }
  }
}
