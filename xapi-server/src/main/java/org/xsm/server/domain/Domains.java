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

  /** Where to report domains that end on their own. */
  void setListener(DomainListener listener);
}
