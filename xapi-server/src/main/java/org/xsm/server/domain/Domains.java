package org.xsm.server.domain;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.xsm.api.VdiDevice;

/**
 * The domains of this host: what runs a VM. One implementation is chosen per host at start ({@code
 * boot.DomainsChoice}): QEMU processes, or the simulator (no guest code runs; memory is a buffer).
 * Domains are named by their VM's UUID. The VM service holds the power-state machine and xapi's
 * checks; an implementation only does what it is told, and fails with {@link DomainException}.
 *
 * <p>Thread-safety: implementations accept calls for different domains concurrently; the VM service
 * never issues two calls for the same domain at once (VM operations exclude each other).
 */
public interface Domains {
  /** Which implementation this is (for the log and the host's capabilities). */
  Kind kind();

  /** The implementations. */
  enum Kind {
    SIMULATOR,
    QEMU
  }

  /**
   * Builds and starts a domain ({@code paused}: created but not running). With {@code memory}, the
   * domain's memory is restored from an image that {@link #saveMemory} wrote (a resume); the disks
   * must then hold the bytes they held when it was saved.
   */
  void create(DomainSpec spec, boolean paused, Optional<VdiDevice> memory) throws DomainException;

  /** Stops the domain's vCPUs (VM.pause). */
  void pause(String vmUuid) throws DomainException;

  /** Runs them again (VM.unpause). */
  void unpause(String vmUuid) throws DomainException;

  /**
   * Asks the guest to shut down (ACPI power button) and waits up to {@code timeout} for the domain
   * to end; fails with {@link DomainException.Reason#SHUTDOWN_TIMEOUT} (the domain still runs).
   */
  void shutdown(String vmUuid, Duration timeout) throws DomainException;

  /** Ends the domain at once (hard shutdown); nothing if it is gone already. */
  void destroy(String vmUuid) throws DomainException;

  /** Upper bound of the bytes {@link #saveMemory} writes for a domain of this spec. */
  long memoryImageBytes(DomainSpec spec);

  /**
   * Writes the memory of a paused domain into {@code image} (from offset 0; its size is at least
   * {@link #memoryImageBytes}), flushed when this returns. The domain stays paused and may be
   * unpaused (a checkpoint) or destroyed (a suspend).
   */
  void saveMemory(String vmUuid, VdiDevice image) throws DomainException;

  /** What the running domain reports (vCPUs, memory), if it exists and can tell. */
  Optional<DomainInfo> info(String vmUuid);

  /**
   * What a running domain reports about itself.
   *
   * @param vcpus vCPUs it runs
   * @param memoryBytes memory it was given
   */
  record DomainInfo(long vcpus, long memoryBytes) {}

  /** Whether the domain exists now. */
  boolean exists(String vmUuid);

  /**
   * At start: the domains left running by an earlier run of the server that are still alive, now
   * managed again (with the spec each was created from). The simulator has none.
   */
  Set<DomainSpec> adopt();

  /** A running domain's consoles: its VNC server and its first serial port. */
  enum Console {
    SCREEN,
    SERIAL
  }

  /**
   * The UNIX socket where a running domain serves that console, if it has one (the simulator has
   * none). Answers from memory: no I/O, no waiting.
   */
  default Optional<java.nio.file.Path> console(String vmUuid, Console which) {
    return Optional.empty();
  }

  /**
   * Live migration, destination side: builds the domain of {@code spec} paused, waiting for the
   * stream of a {@link #migrateOut} on another host, and answers where that stream goes. The disks
   * of {@code spec} are this host's exports of the same VDIs; they are opened but kept inactive (no
   * I/O, not even reads that fill a cache) until {@link #finishIncoming} switches the domain on,
   * after the source has flushed and given its disks up. If the migration is abandoned, the caller
   * ends this domain with {@link #destroy}.
   */
  default IncomingMigration prepareIncoming(DomainSpec spec) throws DomainException {
    throw cannotMigrate();
  }

  /**
   * Live migration, source side: streams the running (or paused) domain to {@code to} (an endpoint
   * {@link #prepareIncoming} answered on the destination), aiming at a pause of at most {@code
   * downtimeLimit} for the final copy, with no bandwidth limit. Returns once the destination holds
   * the whole state (it acknowledged it); the domain here is then gone. On failure the domain here
   * runs on as before (or stays paused if it was) and the reason is in the {@link DomainException};
   * the destination's domain is the caller's to destroy.
   */
  default MigrationResult migrateOut(String vmUuid, MigrationEndpoint to, Duration downtimeLimit)
      throws DomainException {
    throw cannotMigrate();
  }

  /**
   * Live migration, destination side, after {@link #migrateOut} succeeded on the source: waits (up
   * to {@code timeout}) until the incoming state is complete here, activates the disks and runs the
   * domain's vCPUs unless {@code paused}. The domain is then like one {@link #create} made (it is
   * adopted after a restart). If the incoming state never completes the domain is destroyed and the
   * reason thrown.
   */
  default void finishIncoming(String vmUuid, boolean paused, Duration timeout)
      throws DomainException {
    throw cannotMigrate();
  }

  /**
   * What the migration calls throw in an implementation without them (QEMU and the simulator have
   * them; the pool's remote domains do not forward them yet).
   */
  private DomainException cannotMigrate() {
    return new DomainException(
        DomainException.Reason.FAILED,
        "live migration is not implemented by " + getClass().getSimpleName());
  }

  /**
   * Where a migration stream goes.
   *
   * @param host the destination's address (a name or a literal)
   * @param port its TCP port
   */
  record MigrationEndpoint(String host, int port) {
    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  /**
   * A domain waiting for its migration stream.
   *
   * @param vmUuid the domain
   * @param endpoint where the source streams to
   */
  record IncomingMigration(String vmUuid, MigrationEndpoint endpoint) {}

  /**
   * What a completed migration took, as the source's hypervisor measured it.
   *
   * @param downtime how long the guest was paused for the final copy (its own figure)
   * @param total from the start of the stream to its completion
   * @param bytesTransferred bytes of memory sent (pages sent twice count twice)
   * @param wasRunning whether the guest ran when it left (else it was paused)
   */
  record MigrationResult(
      Duration downtime, Duration total, long bytesTransferred, boolean wasRunning) {}

  /** Where to report domains that end on their own. */
  void setListener(DomainListener listener);
}
