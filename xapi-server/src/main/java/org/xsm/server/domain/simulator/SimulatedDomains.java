package org.xsm.server.domain.simulator;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.server.domain.DomainException;
import org.xsm.server.domain.DomainListener;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.Domains;

/**
 * Domains that run no code: each has a memory image ({@link MemoryImages}) that a "guest" keeps
 * rewriting while it runs. Shutdowns complete at once; nothing survives the server. The memory
 * image is written raw at offset 0 of the suspend VDI ({@link MemoryImages#SIZE_BYTES}).
 */
public final class SimulatedDomains implements Domains {
  private final MemoryImages memory;
  private final SimulatedMigration migration;

  /** The spec of each domain created here and not ended: what {@link #adopt} gives back. */
  private final java.util.Map<String, DomainSpec> specs =
      new java.util.concurrent.ConcurrentHashMap<>();

  public SimulatedDomains(MemoryImages memory) {
    this(memory, "127.0.0.1");
  }

  /**
   * @param migrationAddress the address incoming migrations listen on (the host's address in a
   *     pool)
   */
  public SimulatedDomains(MemoryImages memory, String migrationAddress) {
    this.memory = memory;
    this.migration = new SimulatedMigration(memory, migrationAddress);
  }

  @Override
  public Kind kind() {
    return Kind.SIMULATOR;
  }

  @Override
  public void create(DomainSpec spec, boolean paused, Optional<VdiDevice> saved)
      throws DomainException {
    specs.put(spec.vmUuid(), spec);
    if (saved.isEmpty()) {
      memory.boot(spec.vmUuid(), !paused);
      return;
    }
    ByteBuffer b = ByteBuffer.allocate(MemoryImages.SIZE_BYTES);
    try {
      saved.get().read(b, 0);
    } catch (SmException e) {
      throw new DomainException(
          DomainException.Reason.FAILED, "reading the memory image: " + e.getMessage(), e);
    }
    memory.restore(spec.vmUuid(), b.array(), !paused);
  }

  @Override
  public void pause(String vmUuid) {
    memory.setRunning(vmUuid, false);
  }

  @Override
  public void unpause(String vmUuid) {
    memory.setRunning(vmUuid, true);
  }

  @Override
  public void shutdown(String vmUuid, Duration timeout) {
    destroy(vmUuid);
  }

  @Override
  public void destroy(String vmUuid) {
    migration.abort(vmUuid);
    memory.drop(vmUuid);
    specs.remove(vmUuid);
  }

  @Override
  public long memoryImageBytes(DomainSpec spec) {
    return MemoryImages.SIZE_BYTES;
  }

  @Override
  public void saveMemory(String vmUuid, VdiDevice image) throws DomainException {
    byte[] bytes = memory.snapshot(vmUuid);
    if (bytes == null) {
      throw new DomainException(DomainException.Reason.NO_DOMAIN, "no domain for VM " + vmUuid);
    }
    try {
      image.write(ByteBuffer.wrap(bytes), 0);
      image.flush();
    } catch (SmException e) {
      throw new DomainException(
          DomainException.Reason.FAILED, "writing the memory image: " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<DomainInfo> info(String vmUuid) {
    return Optional.empty(); // nothing runs: the VM record's figures are the domain's
  }

  @Override
  public boolean exists(String vmUuid) {
    return memory.snapshot(vmUuid) != null || migration.waiting(vmUuid);
  }

  @Override
  public IncomingMigration prepareIncoming(DomainSpec spec) throws DomainException {
    return migration.prepareIncoming(spec);
  }

  @Override
  public MigrationResult migrateOut(String vmUuid, MigrationEndpoint to, Duration downtimeLimit)
      throws DomainException {
    MigrationResult r = migration.migrateOut(vmUuid, to, downtimeLimit);
    specs.remove(vmUuid);
    return r;
  }

  @Override
  public void finishIncoming(String vmUuid, boolean paused, Duration timeout)
      throws DomainException {
    specs.put(vmUuid, migration.finishIncoming(vmUuid, paused, timeout));
  }

  @Override
  public Set<DomainSpec> adopt() {
    // A simulated domain lives in this process only: what survives is what runs in it now (a pool
    // member that becomes the master keeps its domains; a restarted server has none).
    Set<DomainSpec> alive = new java.util.HashSet<>();
    specs.forEach(
        (uuid, spec) -> {
          if (exists(uuid)) {
            alive.add(spec);
          }
        });
    return alive;
  }

  @Override
  public void setListener(DomainListener listener) {
    // simulated guests never end on their own
  }
}
