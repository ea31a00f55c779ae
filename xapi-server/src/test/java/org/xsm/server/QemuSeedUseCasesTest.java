package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The seed's use cases inside a real guest (QEMU, TCG) with an ext2 filesystem on its disk: a
 * change tried and thrown away by revert; two branches of one starting point, switched back and
 * forth; and a live snapshot taken while the guest writes without pause, which must cost the guest
 * no I/O error and be one consistent point of its writes.
 */
@QuarkusTest
@TestProfile(QemuGuestBase.Qemu.class)
class QemuSeedUseCasesTest extends QemuGuestBase {
  private Transfers transfers;

  /** Mounts the guest's disk at /mnt (making the filesystem first if asked). */
  private void mount(boolean make) throws Exception {
    console.run(
        "mkdir -p /mnt && "
            + (make ? "mke2fs -q /dev/vda && " : "")
            + "mount -t ext2 /dev/vda /mnt && echo mounted",
        CMD);
    assertThat(console.run("grep -c ' /mnt ' /proc/mounts", CMD).trim()).isEqualTo("1");
  }

  private void write(String file, String text) throws Exception {
    console.run("echo " + text + " > /mnt/" + file + " && sync", CMD);
  }

  /** The file's content, or "absent". */
  private String read(String file) throws Exception {
    return console.run("cat /mnt/" + file + " 2>/dev/null || echo absent", CMD).trim();
  }

  /** Reverts to {@code snap} and boots what it holds, mounted. */
  private void revertAndBoot(VM vm, VM snap) throws Exception {
    snap.revert(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.HALTED);
    vm.start(c, false, false);
    shell(vm);
    mount(false);
  }

  @Test
  void aChangeTriedInTheGuestIsThrownAwayByRevert() throws Exception {
    VM vm = newGuest("seed-try");
    vm.start(c, false, false);
    shell(vm);
    mount(true);
    write("app.conf", "version-1");
    VM before = vm.snapshot(c, "before the upgrade"); // the guest runs on
    write("app.conf", "version-2");
    write("upgrade.log", "upgraded");
    assertThat(read("app.conf")).isEqualTo("version-2");

    revertAndBoot(vm, before);
    assertThat(read("app.conf")).as("the change is thrown away").isEqualTo("version-1");
    assertThat(read("upgrade.log")).isEqualTo("absent");
    vm.hardShutdown(c);
  }

  @Test
  void twoBranchesOfOneStartingPointAreSwitchedBackAndForth() throws Exception {
    VM vm = newGuest("seed-branches");
    vm.start(c, false, false);
    shell(vm);
    mount(true);
    write("common", "from-the-start");
    VM start = vm.snapshot(c, "start");
    write("branch", "a");
    write("only-in-a", "yes");
    VM a = vm.snapshot(c, "branch a");

    revertAndBoot(vm, start);
    assertThat(read("branch")).isEqualTo("absent");
    write("branch", "b");
    write("only-in-b", "yes");
    VM b = vm.snapshot(c, "branch b");
    assertThat(b.getParent(c)).as("b grows from the start, not from a").isEqualTo(start);

    for (int round = 0; round < 2; round++) {
      revertAndBoot(vm, a);
      assertThat(read("common")).isEqualTo("from-the-start");
      assertThat(read("branch")).isEqualTo("a");
      assertThat(read("only-in-a")).isEqualTo("yes");
      assertThat(read("only-in-b")).isEqualTo("absent");
      revertAndBoot(vm, b);
      assertThat(read("branch")).isEqualTo("b");
      assertThat(read("only-in-b")).isEqualTo("yes");
      assertThat(read("only-in-a")).isEqualTo("absent");
    }
    vm.hardShutdown(c);
  }

  /**
   * The guest writes its counter i into sector i % 200 of its disk, each write forced before the
   * next starts, without pause; VM.snapshot meanwhile. Consistent means: for the highest value M in
   * the snapshot, every sector holds exactly the last value at or below M that went to it.
   */
  @Test
  void aLiveSnapshotCostsTheWritingGuestNoErrorAndIsOneConsistentPoint() throws Exception {
    VM vm = newGuest("seed-live");
    vm.start(c, false, false);
    shell(vm);
    console.run(
        "(i=0; while :; do i=$((i+1)); printf '%08d' $i | dd of=/dev/vda bs=512 seek=$((i % 200))"
            + " conv=sync,fsync 2>/dev/null || echo $i >> /tmp/io-errors; echo $i > /tmp/count;"
            + " done) &",
        CMD);
    await("the guest writing", CMD, () -> count() > 300);
    VM snap = vm.snapshot(c, "live");
    String hold = snap.getSnapshotInfo(c).get("io-hold-ms");
    assertThat(hold).as("the guest's I/O hold, measured by the server").isNotNull();
    System.out.printf(
        "live snapshot: guest I/O held %s ms (load average %.2f)%n",
        hold,
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    long after = count();
    await("the guest writing on after the snapshot", CMD, () -> count() > after + 100);
    assertThat(console.run("cat /tmp/io-errors 2>/dev/null || echo none", CMD).trim())
        .as("writes that failed in the guest")
        .isEqualTo("none");
    vm.hardShutdown(c);

    VDI disk = null;
    for (VBD vbd : snap.getVBDs(c)) {
      if (vbd.getType(c) == Types.VbdType.DISK) {
        disk = vbd.getVDI(c);
      }
    }
    transfers = new Transfers(c, url);
    byte[] image = transfers.get(disk, "raw", "");
    long[] sectors = new long[200];
    long max = 0;
    for (int j = 0; j < 200; j++) {
      String v = new String(image, j * 512, 8, StandardCharsets.US_ASCII);
      sectors[j] = v.charAt(0) == 0 ? 0 : Long.parseLong(v);
      max = Math.max(max, sectors[j]);
    }
    assertThat(max).as("writes before the snapshot").isGreaterThan(300);
    for (int j = 0; j < 200; j++) {
      long expected = max - Math.floorMod(max - j, 200); // last value <= max with value % 200 == j
      assertThat(sectors[j])
          .as("sector %d of a snapshot whose newest write is %d", j, max)
          .isEqualTo(expected > 0 ? expected : 0);
    }
  }

  private long count() {
    try {
      // The loop rewrites the file: a read between truncation and write sees it empty.
      String v = "";
      for (int i = 0; v.isEmpty() && i < 20; i++) {
        v = console.run("cat /tmp/count 2>/dev/null || echo 0", CMD).trim();
      }
      return Long.parseLong(v);
    } catch (Exception e) {
      throw new IllegalStateException("reading the guest's counter", e);
    }
  }
}
