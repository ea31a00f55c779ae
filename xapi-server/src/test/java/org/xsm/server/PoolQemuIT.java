package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xsm.server.guest.GuestImages;
import org.xsm.server.guest.SectorWrites;
import org.xsm.server.guest.SerialConsole;
import org.xsm.server.runtime.RunDirectory;

/**
 * A real guest (QEMU, TCG here) on a pool of three packaged servers, each in its own network
 * namespace, its disk on a shared NFS SR (nfs-ganesha on the bridge). It runs on a member and keeps
 * writing numbered sectors while the master snapshots it (suspending the member's device around the
 * change of the chain) and while it moves live to the other member (QEMU's migration stream between
 * the two namespaces; the disk attached on the destination before the stream, detached on the
 * source after it and reopened on the destination before the guest runs there). No write fails, the
 * counter in its RAM goes on at the destination, the disk holds every sector it wrote, and the
 * snapshot holds the sectors written before some point, none after.
 */
class PoolQemuIT {
  private static final Duration BOOT = Duration.ofSeconds(120);
  private static final Duration CMD = Duration.ofSeconds(60);
  private static PoolServers pool;
  private static GuestImages.Guest guest;

  @BeforeAll
  static void pool() throws Exception {
    assumeTrue(TestNetwork.available(), "needs root and ip netns");
    var missing = GuestImages.unavailable();
    assumeTrue(missing.isEmpty(), () -> "real guests skipped: " + missing.orElse(""));
    assumeTrue(
        org.xsm.server.domain.qemu.QemuInstallation.detect().isPresent(),
        "qemu-system-x86_64 does not run here");
    guest = GuestImages.build();
    pool = PoolServers.start(3, "qemu");
  }

  /** The guests this test started: none may outlive it, even when it fails half-way. */
  private static final java.util.List<String> guests = new java.util.ArrayList<>();

  @AfterAll
  static void tearDown() throws Exception {
    // Domains outlive their servers by design: a guest left running by a failure is ended here.
    for (String uuid : guests) {
      ProcessHandle.allProcesses()
          .filter(
              p ->
                  p.info()
                      .commandLine()
                      .map(c -> c.contains("qemu") && c.contains(uuid))
                      .orElse(false))
          .forEach(ProcessHandle::destroyForcibly);
    }
    if (pool != null) {
      pool.close();
    }
  }

  private static SerialConsole console(int host, String vmUuid) throws Exception {
    return SerialConsole.connect(
        RunDirectory.of(pool.host(host).data()).resolve(vmUuid + ".serial"), BOOT);
  }

  private static long tick(SerialConsole c) throws Exception {
    return SectorWrites.tick(c, CMD);
  }

  @Test
  void aGuestWritingItsSharedDiskIsSnapshottedAndMovesBetweenMembers() throws Exception {
    Connection master = pool.host(1).login();
    for (int i = 2; i <= 3; i++) {
      Pool.join(pool.host(i).login(), pool.host(1).address(), "root", PoolServers.PASSWORD);
    }
    SR nfs = pool.sharedNfsSr(master, "shared");
    Host two = Host.getByUuid(master, pool.host(2).hostUuid());
    Host three = Host.getByUuid(master, pool.host(3).hostUuid());

    VM vm = SdkTest.newVmOn(master, "a guest on the shared SR");
    vm.setPVBootloader(master, "");
    vm.setPVKernel(master, guest.kernel().toString());
    vm.setPVRamdisk(master, guest.initrd().toString());
    vm.setPVArgs(master, "console=ttyS0 quiet panic=-1");
    VDI disk = SdkTest.newVdi(master, nfs, "guest disk", 16 << 20, Map.of());
    SdkTest.attachDisk(master, vm, disk, "0");
    String uuid = vm.getUuid(master);
    guests.add(uuid);
    vm.startOn(master, two, false, false);
    SerialConsole a = console(2, uuid);
    a.awaitShell(BOOT);
    SectorWrites.start(a, CMD);
    long beforeSnapshot = 0;
    while (beforeSnapshot < 5) {
      beforeSnapshot = tick(a);
    }
    VM snap = vm.snapshot(master, "taken while the guest writes on host 2");
    long afterSnapshot = tick(a);
    while (afterSnapshot < beforeSnapshot + 5) {
      afterSnapshot = tick(a);
    }

    // As QEMU's own tests do, the destination's serial port is connected before the guest arrives
    // there: the migration runs as a task meanwhile.
    Transfers transfers = new Transfers(master, pool.host(1).url());
    com.xensource.xenapi.Task move = vm.poolMigrateAsync(master, three, Map.of());
    SerialConsole b = console(3, uuid);
    assertThat(transfers.settle(move))
        .as("VM.pool_migrate: %s", move.getErrorInfo(master))
        .isEqualTo(com.xensource.xenapi.Types.TaskStatusType.SUCCESS);
    assertThat(vm.getResidentOn(master)).isEqualTo(three);
    a.close();
    long afterMove = tick(b);
    assertThat(afterMove)
        .as("the counter in the guest's RAM goes on at the destination")
        .isGreaterThan(afterSnapshot);
    assertThat(tick(b)).isGreaterThan(afterMove);
    long written = SectorWrites.stop(b, CMD);
    b.close();
    vm.hardShutdown(master);

    int span = (int) (written + 64) * 512;
    byte[] onDisk = java.util.Arrays.copyOf(transfers.get(disk, "raw", ""), span);
    assertThat(onDisk)
        .as("the disk after %d writes", written)
        .isEqualTo(SectorWrites.expected(written, span));
    VDI snapDisk = snap.getVBDs(master).iterator().next().getVDI(master);
    byte[] inSnapshot = java.util.Arrays.copyOf(transfers.get(snapDisk, "raw", ""), span);
    long point = 0;
    while (point < written && inSnapshot[(int) point * 512] == 'P') {
      point++;
    }
    String moved =
        pool.host(1)
            .output()
            .lines()
            .filter(l -> l.contains("VM " + uuid + " migrated:"))
            .findFirst()
            .orElse("(not logged)");
    System.out.printf(
        "[figures] pool guest: %d sectors written, the snapshot holds the first %d; moved between"
            + " members: %s%n",
        written, point, moved.substring(Math.max(0, moved.indexOf("migrated:"))));
    // Every write counted before the snapshot was asked for is in it; what is in it is a prefix.
    assertThat(point).isBetween(beforeSnapshot + 1, written);
    assertThat(inSnapshot).isEqualTo(SectorWrites.expected(point, span));
  }
}
