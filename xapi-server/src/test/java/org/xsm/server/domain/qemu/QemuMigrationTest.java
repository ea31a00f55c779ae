package org.xsm.server.domain.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.server.domain.DomainException;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.Domains.IncomingMigration;
import org.xsm.server.domain.Domains.MigrationEndpoint;
import org.xsm.server.domain.Domains.MigrationResult;
import org.xsm.server.guest.GuestImages;
import org.xsm.server.guest.SectorWrites;
import org.xsm.server.guest.SerialConsole;
import org.xsm.server.nbd.NbdServer;
import org.xsm.server.runtime.RunDirectory;

/**
 * Live migration of real guests (QEMU, TCG here) between two {@link QemuDomains} in this JVM, each
 * with its own data and run directories ("two hosts"), the disk an export of one NBD server (the
 * shared storage). The guest keeps writing numbered sectors and printing ticks while it moves;
 * afterwards its RAM-only counter goes on at the destination, no write failed and the disk holds
 * exactly the sectors it wrote. Skipped, with the reason, where QEMU or the guest's ingredients are
 * missing.
 */
class QemuMigrationTest {
  private static final long MIB = 1 << 20;
  private static final int DISK_BYTES = 16 << 20;
  private static final Duration BOOT = Duration.ofSeconds(60);
  private static final Duration CMD = Duration.ofSeconds(30);
  private static final Duration LIMIT = Duration.ofMillis(300);
  private static QemuInstallation qemu;
  private static GuestImages.Guest guest;

  @TempDir Path tmp;
  private NbdServer nbd;
  private RamDisk disk;
  private QemuDomains hostA;
  private QemuDomains hostB;
  private final String vm = UUID.randomUUID().toString();
  private final String vdi = UUID.randomUUID().toString();
  private final List<SerialConsole> consoles = new java.util.ArrayList<>();

  @BeforeAll
  static void guest() throws Exception {
    var missing = GuestImages.unavailable();
    assumeTrue(missing.isEmpty(), () -> "real guests skipped: " + missing.orElse(""));
    qemu = QemuInstallation.detect().orElse(null);
    assumeTrue(qemu != null, "qemu-system-x86_64 does not run here");
    guest = GuestImages.build();
  }

  @BeforeEach
  void hosts() throws Exception {
    nbd = NbdServer.startUnix(tmp.resolve("nbd.sock"), 4);
    disk = new RamDisk(DISK_BYTES);
    nbd.export("vdi-" + vm, disk, false);
    hostA = host("a");
    hostB = host("b");
  }

  private QemuDomains host(String name) {
    Path data = tmp.resolve(name);
    return new QemuDomains(qemu, RunDirectory.forDataDir(data), data.resolve("domains"));
  }

  @AfterEach
  void stop() throws Exception {
    for (SerialConsole c : consoles) {
      c.close();
    }
    if (hostA != null) {
      hostA.destroy(vm);
      hostB.destroy(vm);
    }
    if (nbd != null) {
      nbd.close();
    }
    for (String host : List.of("a", "b")) {
      Path run = RunDirectory.of(tmp.resolve(host));
      if (Files.isDirectory(run)) {
        try (var left = Files.list(run)) {
          assertThat(left.toList()).as("sockets left in %s", run).isEmpty();
        }
        Files.delete(run);
      }
    }
  }

  private DomainSpec spec(long memoryMib) {
    return new DomainSpec(
        vm,
        "migrating",
        1,
        memoryMib * MIB,
        new DomainSpec.KernelBoot(
            guest.kernel().toString(), guest.initrd().toString(), "console=ttyS0 quiet panic=-1"),
        List.of(
            new DomainSpec.Disk(
                "0",
                DomainSpec.DiskKind.DISK,
                tmp.resolve("nbd.sock"),
                "vdi-" + vm,
                false,
                true,
                vdi)),
        List.of());
  }

  private SerialConsole console(QemuDomains host) throws Exception {
    SerialConsole c = SerialConsole.connect(host.paths(vm).serial(), BOOT);
    consoles.add(c);
    return c;
  }

  /** A guest on host A at its shell. */
  private SerialConsole running(DomainSpec spec) throws Exception {
    hostA.create(spec, false, Optional.empty());
    SerialConsole c = console(hostA);
    c.awaitShell(BOOT);
    return c;
  }

  /** The next tick ({@code <T n>}) the guest prints, as a number. */
  private static long tick(SerialConsole c) throws Exception {
    return SectorWrites.tick(c, CMD);
  }

  @Test
  void aGuestWritingItsDiskMovesAndGoesOnWithEveryByteInPlace() throws Exception {
    SerialConsole a = running(spec(256));
    SectorWrites.start(a, CMD);
    long beforeMove = 0;
    while (beforeMove < 5) {
      beforeMove = tick(a);
    }
    long sourcePid = Long.parseLong(Files.readString(hostA.paths(vm).pidFile()).trim());

    IncomingMigration in = hostB.prepareIncoming(spec(256));
    assertThat(in.endpoint().host()).isEqualTo("127.0.0.1");
    SerialConsole b = console(hostB); // its serial port, before the guest arrives
    MigrationResult r = hostA.migrateOut(vm, in.endpoint(), LIMIT);
    hostB.finishIncoming(vm, false, CMD);
    System.out.printf(
        "[figures] live migration of a 256 MiB guest writing its disk: downtime %d ms (QEMU's),"
            + " total %d ms, %d MiB sent%n",
        r.downtime().toMillis(), r.total().toMillis(), r.bytesTransferred() >> 20);

    assertThat(r.wasRunning()).isTrue();
    assertThat(r.bytesTransferred()).isPositive();
    assertThat(r.total()).isPositive();
    assertThat(hostA.exists(vm)).as("the source domain is gone").isFalse();
    assertThat(QemuProcess.exitedPerProc(sourcePid)).as("the source QEMU has exited").isTrue();
    assertThat(Files.exists(hostA.paths(vm).state())).as("the source's state").isFalse();
    assertThat(hostB.exists(vm)).isTrue();

    long afterMove = tick(b);
    assertThat(afterMove)
        .as("the counter in the guest's RAM goes on at the destination")
        .isGreaterThan(beforeMove);
    assertThat(tick(b)).isGreaterThan(afterMove);
    long written = SectorWrites.stop(b, CMD);
    assertThat(written).isGreaterThan(afterMove);

    int span = (int) (written + 64) * 512;
    byte[] expected = SectorWrites.expected(written, span);
    assertThat(disk.copy(0, span)).as("the disk after %d writes", written).isEqualTo(expected);

    // What a restarted server on host B adopts the domain from (QemuDomains.adopt).
    DomainPaths p = hostB.paths(vm);
    assertThat(new ObjectMapper().readValue(p.specFile().toFile(), DomainSpec.class))
        .isEqualTo(spec(256));
    long pid = Long.parseLong(Files.readString(p.pidFile()).trim());
    assertThat(ProcessHandle.of(pid).flatMap(h -> h.info().arguments()).map(List::of))
        .hasValueSatisfying(args -> assertThat(String.join(" ", args)).contains(vm));
    assertThat(Files.exists(p.incomingMarker())).as("no longer waiting for a stream").isFalse();
  }

  @Test
  void aPausedGuestArrivesPausedAndRunsWhenUnpaused() throws Exception {
    SerialConsole a = running(spec(128));
    a.run("echo in-ram-$((6*7)) > /tmp/token", CMD);
    hostA.pause(vm);
    IncomingMigration in = hostB.prepareIncoming(spec(128));
    MigrationResult r = hostA.migrateOut(vm, in.endpoint(), LIMIT);
    assertThat(r.wasRunning()).isFalse();
    hostB.finishIncoming(vm, !r.wasRunning(), CMD);
    assertThat(hostB.domain(vm).status()).isEqualTo("paused");
    hostB.unpause(vm);
    SerialConsole b = console(hostB);
    assertThat(b.run("cat /tmp/token", CMD)).contains("in-ram-42");
  }

  @Test
  void aDomainStillWaitingForItsStreamIsEndedByARestartedServer() throws Exception {
    hostB.prepareIncoming(spec(128));
    ProcessHandle waiting =
        ProcessHandle.of(Long.parseLong(Files.readString(hostB.paths(vm).pidFile()).trim()))
            .orElseThrow();
    QemuDomains restarted = host("b"); // the same directories: host B's next server
    assertThat(restarted.adopt()).as("nothing adopted").isEmpty();
    waiting.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(Files.exists(hostB.paths(vm).state())).isFalse();
  }

  @Test
  void aDeadEndpointLeavesTheSourceRunningAndSaysWhy() throws Exception {
    SerialConsole a = running(spec(128));
    int dead;
    try (ServerSocket s = new ServerSocket(0)) {
      dead = s.getLocalPort();
    }
    MigrationEndpoint to = new MigrationEndpoint("127.0.0.1", dead);
    assertThatThrownBy(() -> hostA.migrateOut(vm, to, LIMIT))
        .isInstanceOf(DomainException.class)
        .hasMessageContaining("127.0.0.1:" + dead)
        .hasMessageContaining("failed")
        .hasMessageContaining("runs on here")
        .satisfies(
            e ->
                assertThat(((DomainException) e).reason()).isEqualTo(DomainException.Reason.FAILED))
        .satisfies(e -> System.out.println("[refused] " + e.getMessage()));
    assertThat(hostA.exists(vm)).isTrue();
    assertThat(hostA.domain(vm).status()).isEqualTo("running");
    assertThat(a.run("echo still-$((40+2))", CMD)).contains("still-42");
  }

  @Test
  void aDestinationThatCannotLoadTheLastPartLeavesTheSourceRunning() throws Exception {
    SerialConsole a = running(spec(128));
    // Another machine waits at the endpoint: same memory, but no disk. It takes all the RAM and
    // fails on the device state, which comes last and fits in the socket's buffers: without the
    // return path the source would count the migration complete and end, and the guest be lost.
    DomainSpec diskless = spec(128);
    diskless =
        new DomainSpec(
            vm, "diskless", 1, diskless.memoryBytes(), diskless.boot(), List.of(), List.of());
    IncomingMigration wrong = hostB.prepareIncoming(diskless);
    assertThatThrownBy(() -> hostA.migrateOut(vm, wrong.endpoint(), LIMIT))
        .isInstanceOf(DomainException.class)
        .hasMessageContaining("runs on here")
        .satisfies(e -> System.out.println("[refused] " + e.getMessage()));
    assertThat(hostA.domain(vm).status()).isEqualTo("running");
    assertThat(a.run("echo still-$((40+2))", CMD)).contains("still-42");
    assertThat(
            a.run("echo disk-ok | dd of=/dev/vda bs=512 count=1 conv=sync,fsync && echo w-ok", CMD))
        .as("the source's disk is active again")
        .contains("w-ok");
    assertThatThrownBy(() -> hostB.finishIncoming(vm, false, CMD))
        .isInstanceOf(DomainException.class)
        .hasMessageContaining("destroyed here")
        .satisfies(e -> System.out.println("[refused] " + e.getMessage()));
    assertThat(hostB.exists(vm)).isFalse();
    assertThat(Files.exists(hostB.paths(vm).state())).isFalse();
  }

  @Test
  void aDestinationOfAnotherMemorySizeRefusesTheStreamEarly() throws Exception {
    SerialConsole a = running(spec(128));
    IncomingMigration wrong = hostB.prepareIncoming(spec(64));
    assertThatThrownBy(() -> hostA.migrateOut(vm, wrong.endpoint(), LIMIT))
        .isInstanceOf(DomainException.class)
        .hasMessageContaining("runs on here");
    assertThat(hostA.domain(vm).status()).isEqualTo("running");
    assertThat(a.run("echo still-$((40+2))", CMD)).contains("still-42");
  }
}
