package org.xsm.server.pool;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.xsm.api.VdiDevice;
import org.xsm.server.domain.DomainException;
import org.xsm.server.domain.DomainListener;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.Domains;
import org.xsm.server.model.XenApiException;

/**
 * The domains of another host of the pool, driven through its agent ({@link PoolAgent}) with the
 * pool's session: the master runs the VM's lifecycle, the host holding it runs its domain. A domain
 * is built there from the same spec as here. Memory images (suspend, checkpoint) are not carried
 * between hosts: those operations fail with a clear reason for a VM on another host.
 */
final class RemoteDomains implements Domains {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final PoolPeers peers;
  private final String address;

  RemoteDomains(PoolPeers peers, String address) {
    this.peers = peers;
    this.address = address;
  }

  @Override
  public Kind kind() {
    return peers.localKind();
  }

  private JsonNode call(String method, Object... args) throws DomainException {
    try {
      return peers.call(address, method, args);
    } catch (XenApiException e) {
      DomainException.Reason reason =
          "VM_SHUTDOWN_TIMEOUT".equals(e.code())
              ? DomainException.Reason.SHUTDOWN_TIMEOUT
              : DomainException.Reason.FAILED;
      throw new DomainException(
          reason, "on host " + address + ": " + String.join(" ", e.errorDescription()), e);
    }
  }

  @Override
  public void create(DomainSpec spec, boolean paused, Optional<VdiDevice> memory)
      throws DomainException {
    if (memory.isPresent()) {
      throw new DomainException(
          DomainException.Reason.FAILED,
          "a memory image cannot be restored on another host of the pool (" + address + ")");
    }
    try {
      call(PoolAgent.CREATE, JSON.writeValueAsString(spec), paused);
    } catch (JsonProcessingException e) {
      throw new DomainException(DomainException.Reason.FAILED, "spec: " + e.getMessage(), e);
    }
  }

  private void control(String vmUuid, PoolAgent.Control op, long timeoutSeconds)
      throws DomainException {
    call(PoolAgent.CONTROL, vmUuid, op.name(), timeoutSeconds);
  }

  @Override
  public void pause(String vmUuid) throws DomainException {
    control(vmUuid, PoolAgent.Control.PAUSE, 0);
  }

  @Override
  public void unpause(String vmUuid) throws DomainException {
    control(vmUuid, PoolAgent.Control.UNPAUSE, 0);
  }

  @Override
  public void shutdown(String vmUuid, Duration timeout) throws DomainException {
    control(vmUuid, PoolAgent.Control.SHUTDOWN, timeout.toSeconds());
  }

  @Override
  public void destroy(String vmUuid) throws DomainException {
    control(vmUuid, PoolAgent.Control.DESTROY, 0);
  }

  @Override
  public IncomingMigration prepareIncoming(DomainSpec spec) throws DomainException {
    try {
      String at = call(PoolAgent.MIGRATE_IN, JSON.writeValueAsString(spec)).asText();
      int colon = at.lastIndexOf(':');
      return new IncomingMigration(
          spec.vmUuid(),
          new MigrationEndpoint(at.substring(0, colon), Integer.parseInt(at.substring(colon + 1))));
    } catch (JsonProcessingException e) {
      throw new DomainException(DomainException.Reason.FAILED, "spec: " + e.getMessage(), e);
    }
  }

  @Override
  public MigrationResult migrateOut(String vmUuid, MigrationEndpoint to, Duration downtimeLimit)
      throws DomainException {
    JsonNode r = call(PoolAgent.MIGRATE_OUT, vmUuid, to.toString(), downtimeLimit.toMillis());
    return new MigrationResult(
        Duration.ofMillis(r.path("downtime_ms").asLong()),
        Duration.ofMillis(r.path("total_ms").asLong()),
        r.path("bytes").asLong(),
        r.path("was_running").asBoolean());
  }

  @Override
  public void finishIncoming(String vmUuid, boolean paused, Duration timeout)
      throws DomainException {
    call(PoolAgent.MIGRATE_FINISH, vmUuid, paused, timeout.toSeconds());
  }

  @Override
  public long memoryImageBytes(DomainSpec spec) {
    return 0;
  }

  @Override
  public void saveMemory(String vmUuid, VdiDevice image) throws DomainException {
    throw new DomainException(
        DomainException.Reason.FAILED,
        "the memory of a domain on another host of the pool ("
            + address
            + ") cannot be saved here");
  }

  @Override
  public Optional<DomainInfo> info(String vmUuid) {
    return Optional.empty();
  }

  @Override
  public boolean exists(String vmUuid) {
    try {
      return call(PoolAgent.CONTROL, vmUuid, PoolAgent.Control.EXISTS.name(), 0L).asBoolean();
    } catch (DomainException e) {
      return false;
    }
  }

  @Override
  public Set<DomainSpec> adopt() {
    return Set.of();
  }

  @Override
  public void setListener(DomainListener listener) {
    // domains ending on their own there are reported by the host's heartbeats
  }
}
