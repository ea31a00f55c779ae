package org.xsm.server.domain.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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
import org.xsm.server.domain.qemu.Qmp.QmpException;

/**
 * Live migration of QEMU domains between hosts, with QEMU's own migration over TCP.
 *
 * <p>The destination starts the same machine with {@code -S -incoming defer}, the capabilities
 * {@code events} (the end of the stream is a {@code MIGRATION} event, not a poll) and {@code
 * late-block-activate}: its disks, NBD clients of its own exports, are opened but stay inactive (no
 * I/O) until {@code cont}, which {@link #finishIncoming} sends only after the source reported
 * completion; by then the source has stopped its vCPUs, flushed its disks and inactivated them, so
 * only one QEMU ever writes a disk. It listens on port 0 of the host's migration address and
 * answers the port QEMU took ({@code query-migrate}'s {@code socket-address}).
 *
 * <p>The source sets {@code downtime-limit} and an unlimited {@code max-bandwidth}, turns on {@code
 * return-path} (the destination acknowledges that it loaded the whole state: without it a source
 * counts a migration complete that the destination failed to load, and the guest would be lost with
 * the source ended) and runs {@code migrate}. A failed or cancelled migration leaves the source as
 * it was: QEMU restarts the vCPUs it stopped for the final copy, and this class sends {@code cont}
 * if they still are stopped. A completed one ends the source QEMU.
 */
final class QemuMigration {
  private static final Logger LOG = Logger.getLogger(QemuMigration.class);

  /** Longest a migration may run before it is cancelled (a stream that makes no progress). */
  static final Duration MIGRATION_TIMEOUT = Duration.ofMinutes(10);

  /** QEMU takes any size_t; this is "as fast as the link goes". */
  private static final long UNLIMITED_BANDWIDTH = Long.MAX_VALUE;

  private final QemuDomains domains;
  private final String listenAddress;

  QemuMigration(QemuDomains domains, String listenAddress) {
    this.domains = domains;
    this.listenAddress = listenAddress;
  }

  IncomingMigration prepareIncoming(DomainSpec spec) throws DomainException {
    String vm = spec.vmUuid();
    if (domains.exists(vm)) {
      throw new DomainException(Reason.FAILED, "VM " + vm + " already has a domain on this host");
    }
    try {
      QemuProcess q = domains.start(spec, true, true, true);
      // A stream that fails ends the destination QEMU: not a crash of the VM, which runs on at
      // the source. The listener hears of this domain's end only after finishIncoming.
      q.expectEnd();
      capabilities(q, Map.of("events", true, "late-block-activate", true));
      q.watchMigration();
      q.execute("migrate-incoming", Map.of("uri", "tcp:" + uriHost(listenAddress) + ":0"));
      int port = listeningPort(q.execute("query-migrate", null));
      LOG.infof("VM %s: waiting for its migration stream on %s:%d", vm, listenAddress, port);
      return new IncomingMigration(vm, new MigrationEndpoint(listenAddress, port));
    } catch (IOException | QmpException e) {
      domains.destroy(vm);
      throw new DomainException(
          Reason.FAILED,
          "VM " + vm + ": QEMU could not wait for an incoming migration: " + e.getMessage(),
          e);
    }
  }

  private static int listeningPort(JsonNode migrate) throws IOException {
    for (JsonNode a : migrate.path("socket-address")) {
      if (a.path("type").asText().equals("inet") && a.path("port").asInt(0) > 0) {
        return a.path("port").asInt();
      }
    }
    throw new IOException("QEMU listens for the stream but names no TCP port: " + migrate);
  }

  MigrationResult migrateOut(String vmUuid, MigrationEndpoint to, Duration downtimeLimit)
      throws DomainException {
    QemuProcess q = domains.domain(vmUuid);
    boolean wasRunning = false;
    String what = "migrating VM " + vmUuid + " to " + to;
    try {
      wasRunning = q.status().equals("running");
      capabilities(q, Map.of("events", true, "return-path", true));
      q.execute(
          "migrate-set-parameters",
          Map.of(
              "downtime-limit",
              Math.max(1, downtimeLimit.toMillis()),
              "max-bandwidth",
              UNLIMITED_BANDWIDTH));
      CompletableFuture<String> end = q.watchMigration();
      q.execute("migrate", Map.of("uri", "tcp:" + uriHost(to.host()) + ":" + to.port()));
      String status = awaitEnd(q, end, MIGRATION_TIMEOUT);
      JsonNode m = status.equals("completed") ? figures(q) : q.execute("query-migrate", null);
      if (!status.equals("completed")) {
        String why = m.path("error-desc").asText("");
        recover(q, wasRunning);
        throw new DomainException(
            Reason.FAILED,
            what
                + ": the migration "
                + status
                + ": "
                + (!why.isEmpty()
                    ? why
                    : status.equals("failed")
                        ? "the destination did not confirm it loaded the state"
                        : "no progress within " + MIGRATION_TIMEOUT)
                + "; it runs on here");
      }
      MigrationResult r =
          new MigrationResult(
              Duration.ofMillis(m.path("downtime").asLong()),
              Duration.ofMillis(m.path("total-time").asLong()),
              m.path("ram").path("transferred").asLong(),
              wasRunning);
      LOG.infof(
          "VM %s: migrated to %s in %d ms (downtime %d ms, %d MiB sent)",
          vmUuid, to, r.total().toMillis(), r.downtime().toMillis(), r.bytesTransferred() >> 20);
      domains.migratedAway(q);
      return r;
    } catch (QmpException | IOException e) {
      recover(q, wasRunning);
      throw new DomainException(
          Reason.FAILED, what + ": " + e.getMessage() + "; it runs on here", e);
    }
  }

  /**
   * {@code query-migrate} of a completed migration once QEMU has recorded its figures: it sends the
   * {@code completed} event first and records {@code total-time} and {@code downtime} a moment
   * later (and sets the run state {@code postmigrate} with them), with no event for that.
   */
  private static JsonNode figures(QemuProcess q) throws QmpException, IOException {
    long deadline = System.nanoTime() + QemuProcess.QMP_TIMEOUT.toNanos();
    while (true) {
      JsonNode m = q.execute("query-migrate", null);
      if (m.path("total-time").asLong() > 0 || q.status().equals("postmigrate")) {
        return q.execute("query-migrate", null);
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("QEMU reported the migration completed but not its figures");
      }
      try {
        Thread.sleep(1); // QEMU's own bookkeeping, under its lock; nothing to wait on
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
  }

  /**
   * The final status of the migration {@code end} watches; cancels it when {@code timeout} passes
   * first (and then answers its final status).
   */
  static String awaitEnd(QemuProcess q, CompletableFuture<String> end, Duration timeout)
      throws IOException, QmpException {
    try {
      try {
        return end.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        LOG.warnf("VM %s: migration not complete after %s; cancelled", q.spec.vmUuid(), timeout);
        q.execute("migrate_cancel", null);
        return end.get(QemuProcess.QMP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (ExecutionException e) {
      throw new IOException(e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("the migration did not end after migrate_cancel", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted during the migration", e);
    }
  }

  /** After a failed migration: the vCPUs run again if they ran before. */
  private static void recover(QemuProcess q, boolean wasRunning) {
    if (!wasRunning || !q.alive()) {
      return;
    }
    try {
      String status = q.status();
      if (!status.equals("running")) {
        LOG.infof("VM %s: %s after the failed migration; cont", q.spec.vmUuid(), status);
        q.execute("cont", null);
      }
    } catch (QmpException e) {
      LOG.errorf(
          e, "VM %s: could not run its vCPUs again after the failed migration", q.spec.vmUuid());
    }
  }

  void finishIncoming(String vmUuid, boolean paused, Duration timeout) throws DomainException {
    QemuProcess q =
        domains
            .find(vmUuid)
            .orElseThrow(
                () ->
                    new DomainException(Reason.NO_DOMAIN, "VM " + vmUuid + " has no domain here"));
    CompletableFuture<String> end =
        q.migrationEnd()
            .orElseThrow(
                () ->
                    new DomainException(
                        Reason.FAILED, "VM " + vmUuid + " does not wait for a migration here"));
    String why;
    try {
      String status = end.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (status.equals("completed")) {
        if (!paused) {
          q.execute("cont", null); // activates the disks, then runs the vCPUs
        }
        Files.deleteIfExists(q.paths.incomingMarker());
        q.expectStillRunning(); // from now on its end is the VM's
        LOG.infof("VM %s: migrated in, %s", vmUuid, paused ? "paused" : "running");
        return;
      }
      why = "the incoming migration " + status;
    } catch (ExecutionException e) {
      why = e.getCause().getMessage();
    } catch (TimeoutException e) {
      why = "the incoming migration was not complete after " + timeout;
    } catch (QmpException | IOException e) {
      why = "the migrated domain could not be started: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      why = "interrupted";
    }
    domains.destroy(vmUuid);
    throw new DomainException(Reason.FAILED, "VM " + vmUuid + ": " + why + "; destroyed here");
  }

  /**
   * At adoption: a QEMU left waiting for an incoming migration by an earlier server. The stream it
   * waited for went with that server (the source runs on), so it is killed, without touching its
   * monitor (the earlier server may still hold it, and QEMU serves one client at a time).
   */
  void endIncoming(DomainSpec spec) throws IOException {
    var h = QemuProcess.running(spec, domains.paths(spec.vmUuid()));
    if (h.isPresent()) {
      LOG.infof(
          "VM %s: QEMU %d waited for an incoming migration that ended with the last server; killed",
          spec.vmUuid(), h.get().pid());
      h.get().destroyForcibly();
    }
    domains.cleanUp(spec.vmUuid());
  }

  /** Sets QEMU's migration capabilities named in {@code states}, on or off. */
  static void capabilities(QemuProcess q, Map<String, Boolean> states) throws QmpException {
    List<Map<String, Object>> caps =
        states.entrySet().stream()
            .map(c -> Map.<String, Object>of("capability", c.getKey(), "state", c.getValue()))
            .toList();
    q.execute("migrate-set-capabilities", Map.of("capabilities", caps));
  }

  /** An IPv6 literal goes in brackets in QEMU's {@code tcp:} URIs. */
  private static String uriHost(String host) {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }
}
