package org.xsm.server.domain.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.xsm.server.domain.DomainException;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.Domains;
import org.xsm.server.domain.Domains.IncomingMigration;
import org.xsm.server.domain.Domains.MigrationEndpoint;
import org.xsm.server.domain.Domains.MigrationResult;

/**
 * The migration contract of {@link Domains} on two simulated hosts (two {@link SimulatedDomains},
 * each with its own memory): the memory arrives byte for byte and the guest runs on at the
 * destination only; a dead or wrong endpoint leaves the source running and says why.
 */
class SimulatedMigrationTest {
  private static final Duration LIMIT = Duration.ofMillis(300);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final MemoryImages memoryA = new MemoryImages();
  private final MemoryImages memoryB = new MemoryImages();
  private final SimulatedDomains hostA = new SimulatedDomains(memoryA);
  private final SimulatedDomains hostB = new SimulatedDomains(memoryB);

  private static DomainSpec spec(String vm) {
    return new DomainSpec(
        vm, "guest", 1, 256L << 20, new DomainSpec.FirmwareBoot(""), List.of(), List.of());
  }

  /** A guest that ran a while on host A. */
  private DomainSpec running(String vm) throws DomainException {
    DomainSpec s = spec(vm);
    hostA.create(s, false, Optional.empty());
    memoryA.tick();
    memoryA.tick();
    return s;
  }

  @Test
  void theMemoryArrivesWholeAndTheGuestRunsOnAtTheDestinationOnly() throws Exception {
    DomainSpec s = running("vm-1");
    IncomingMigration in = hostB.prepareIncoming(s);
    assertThat(in.vmUuid()).isEqualTo("vm-1");
    assertThat(hostB.exists("vm-1")).as("waiting for its stream").isTrue();
    assertThat(memoryB.snapshot("vm-1")).as("no memory before the stream").isNull();

    MigrationResult r = hostA.migrateOut("vm-1", in.endpoint(), LIMIT);
    assertThat(r.wasRunning()).isTrue();
    assertThat(r.bytesTransferred()).isEqualTo(MemoryImages.SIZE_BYTES);
    assertThat(r.total()).isGreaterThanOrEqualTo(r.downtime()).isPositive();
    assertThat(hostA.exists("vm-1")).as("the source domain is gone").isFalse();

    hostB.finishIncoming("vm-1", false, WAIT);
    byte[] arrived = memoryB.snapshot("vm-1");
    assertThat(arrived).hasSize(MemoryImages.SIZE_BYTES);
    assertThat(memoryB.running("vm-1")).isTrue();
    memoryB.tick();
    assertThat(memoryB.snapshot("vm-1")).as("the guest writes on at B").isNotEqualTo(arrived);
    assertThat(hostB.adopt()).as("B's domains, as a new master finds them").containsExactly(s);
    assertThat(hostA.adopt()).isEmpty();
  }

  @Test
  void theBytesAreTheOnesTheSourceHeldWhenItPaused() throws Exception {
    DomainSpec s = running("vm-2");
    hostA.pause("vm-2"); // its memory no longer changes: what arrives must be exactly this
    byte[] before = memoryA.snapshot("vm-2");
    IncomingMigration in = hostB.prepareIncoming(s);
    MigrationResult r = hostA.migrateOut("vm-2", in.endpoint(), LIMIT);
    assertThat(r.wasRunning()).isFalse();
    hostB.finishIncoming("vm-2", !r.wasRunning(), WAIT);
    assertThat(memoryB.snapshot("vm-2")).isEqualTo(before);
    assertThat(memoryB.running("vm-2")).as("a paused guest arrives paused").isFalse();
  }

  @Test
  void aDeadEndpointLeavesTheSourceRunningAndSaysWhy() throws Exception {
    running("vm-3");
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    MigrationEndpoint dead = new MigrationEndpoint("127.0.0.1", deadPort);
    assertThatThrownBy(() -> hostA.migrateOut("vm-3", dead, LIMIT))
        .isInstanceOf(DomainException.class)
        .hasMessageContaining("127.0.0.1:" + deadPort)
        .hasMessageContaining("runs on here")
        .satisfies(
            e ->
                assertThat(((DomainException) e).reason())
                    .isEqualTo(DomainException.Reason.FAILED));
    assertThat(hostA.exists("vm-3")).isTrue();
    assertThat(memoryA.running("vm-3")).as("running again").isTrue();
    byte[] now = memoryA.snapshot("vm-3");
    memoryA.tick();
    assertThat(memoryA.snapshot("vm-3")).isNotEqualTo(now);
  }

  @Test
  void aDestinationWaitingForAnotherVmRefusesTheStream() throws Exception {
    running("vm-4");
    IncomingMigration other = hostB.prepareIncoming(spec("vm-other"));
    assertThatThrownBy(() -> hostA.migrateOut("vm-4", other.endpoint(), LIMIT))
        .isInstanceOf(DomainException.class)
        .hasMessageContaining("refused the stream: this host waits for VM vm-other, not VM vm-4");
    assertThat(memoryA.running("vm-4")).isTrue();
    assertThatThrownBy(() -> hostB.finishIncoming("vm-other", false, WAIT))
        .isInstanceOf(DomainException.class)
        .hasMessageContaining("not VM vm-4")
        .hasMessageContaining("destroyed here");
    assertThat(hostB.exists("vm-other")).isFalse();
  }

  @Test
  void anAbandonedIncomingDomainIsDestroyed() throws Exception {
    IncomingMigration in = hostB.prepareIncoming(spec("vm-5"));
    hostB.destroy("vm-5");
    assertThat(hostB.exists("vm-5")).isFalse();
    running("vm-5");
    assertThatThrownBy(() -> hostA.migrateOut("vm-5", in.endpoint(), LIMIT))
        .isInstanceOf(DomainException.class);
    assertThat(memoryA.running("vm-5")).isTrue();
  }
}
