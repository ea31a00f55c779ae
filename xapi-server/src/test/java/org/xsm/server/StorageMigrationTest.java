package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Host;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Storage migration within a host, as clients call it: a running VM's disk with two snapshots and
 * CBT moved to another SR by {@code VDI.pool_migrate} while qemu-io keeps writing to it over NBD,
 * and a halted VM's disk moved by {@code VM.migrate_send}. Checked: the bytes of the disk (the
 * writer's included) and of each snapshot, the snapshots' {@code snapshot_of} and the VM snapshots'
 * disks, CBT still answering, the old VDIs gone.
 */
@QuarkusTest
class StorageMigrationTest extends SdkTest {
  private static final int MIB = 1024 * 1024;
  private static final int SIZE = 32 * MIB;

  private SR secondSr(String name) throws Exception {
    Path dir = Files.createTempDirectory(Path.of("target"), "sr2-").toAbsolutePath();
    Host host = Host.getAll(c).iterator().next();
    return SR.create(
        c, host, Map.of("path", dir.toString()), 0L, name, "", "ext", "user", false, Map.of());
  }

  private static byte[] pattern(int seed) {
    byte[] b = new byte[SIZE];
    Random r = new Random(seed);
    for (int off = 0; off < SIZE; off += MIB) {
      if (r.nextInt(3) > 0) { // some MiB left as holes
        byte[] m = new byte[MIB];
        r.nextBytes(m);
        System.arraycopy(m, 0, b, off, MIB);
      }
    }
    return b;
  }

  @Test
  void aRunningVmsDiskMovesWithItsSnapshotsAndCbtWhileItIsWritten() throws Exception {
    SR dest = secondSr("migration target");
    VM vm = newVm("moving", 1, 256L * MIB);
    VDI disk = newVdi("moving disk", SIZE);
    attachDisk(vm, disk, "0");
    disk.enableCbt(c);
    Transfers t = new Transfers(c, url);
    byte[] first = pattern(1);
    assertThat(t.put(disk, "raw", first).succeeded()).isTrue();
    VM s1 = vm.snapshot(c, "s1");
    byte[] second = first.clone();
    System.arraycopy(pattern(2), 0, second, 4 * MIB, 8 * MIB);
    assertThat(t.put(disk, "raw", second).succeeded()).isTrue();
    VM s2 = vm.snapshot(c, "s2");
    vm.start(c, false, false);

    // A writer on the running disk's NBD export, for the whole move: 200 writes of 64 KiB.
    NbdXenApiTest.Target nbd = NbdXenApiTest.target(disk.getNbdInfo(c).iterator().next());
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/qemu-io"));
    byte[] expected = second.clone();
    Random r = new Random(3);
    for (int i = 0; i < 200; i++) {
      int block = r.nextInt(SIZE / 65536);
      int value = 1 + r.nextInt(250);
      cmd.addAll(List.of("-c", "write -P " + value + " " + (block * 65536L) + " 64k"));
      Arrays.fill(expected, block * 65536, (block + 1) * 65536, (byte) value);
    }
    cmd.addAll(List.of("-c", "flush"));
    cmd.addAll(nbd.qemuArgs());
    Process writer = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    VDI moved = disk.poolMigrate(c, dest, Map.of());
    String writerOut = new String(writer.getInputStream().readAllBytes());
    assertThat(writer.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(writer.exitValue()).as(writerOut).isZero();
    assertThat(writerOut).doesNotContain("failed").doesNotContain("error");

    assertThat(moved.getSR(c)).isEqualTo(dest);
    assertThat(moved.getCbtEnabled(c)).isTrue();
    VBD vbd = vm.getVBDs(c).iterator().next();
    assertThat(vbd.getVDI(c)).isEqualTo(moved);
    assertThat(VDI.getAll(c)).doesNotContain(disk);
    // The snapshots moved too, still snapshots of the (new) disk, still the VM snapshots' disks.
    List<VDI> snaps = new ArrayList<>(moved.getSnapshots(c));
    assertThat(snaps).hasSize(2);
    VDI ns1 = s1.getVBDs(c).iterator().next().getVDI(c);
    VDI ns2 = s2.getVBDs(c).iterator().next().getVDI(c);
    assertThat(snaps).containsExactlyInAnyOrder(ns1, ns2);
    for (VDI s : snaps) {
      assertThat(s.getSR(c)).isEqualTo(dest);
      assertThat(s.getSnapshotOf(c)).isEqualTo(moved);
      assertThat(s.getIsASnapshot(c)).isTrue();
    }
    assertThat(t.get(ns1, "raw", "")).isEqualTo(first);
    assertThat(t.get(ns2, "raw", "")).isEqualTo(second);

    // New NBD clients of the running disk reach it by the new VDI's name.
    NbdXenApiTest.Target after0 = NbdXenApiTest.target(moved.getNbdInfo(c).iterator().next());
    assertThat(after0.export()).startsWith(moved.getUuid(c) + ".");
    List<String> read =
        new ArrayList<>(
            List.of("/usr/bin/qemu-io", "-r", "-c", "read -P " + (expected[0] & 0xff) + " 0 64k"));
    read.addAll(after0.qemuArgs());
    ChildProcess.Result rr = ChildProcess.run(read, null, 120);
    assertThat(rr.output())
        .as(rr.output())
        .contains("read 65536/65536")
        .doesNotContain("Pattern verification failed");

    vm.hardShutdown(c);
    assertThat(t.get(moved, "raw", ""))
        .as("every write landed, before or after the switch")
        .isEqualTo(expected);
    // CBT goes on: a new snapshot's changes since s2 cover every block the writer touched.
    VDI after = moved.snapshot(c, Map.of());
    byte[] bitmap = Base64.getDecoder().decode(ns2.listChangedBlocks(c, after));
    BitSet changed = new BitSet();
    for (int i = 0; i < bitmap.length * 8; i++) {
      if ((bitmap[i / 8] & (0x80 >> (i % 8))) != 0) {
        changed.set(i);
      }
    }
    for (int b = 0; b < SIZE / 65536; b++) {
      boolean differs =
          !Arrays.equals(expected, b * 65536, (b + 1) * 65536, second, b * 65536, (b + 1) * 65536);
      if (differs) {
        assertThat(changed.get(b)).as("block %d changed since s2", b).isTrue();
      }
    }
  }

  @Test
  void aHaltedVmsDiskMovesThroughMigrateSendAndBadInputIsRefused() throws Exception {
    SR dest = secondSr("cold target");
    VM vm = newVm("cold", 1, 256L * MIB);
    VDI disk = newVdi("cold disk", SIZE);
    attachDisk(vm, disk, "0");
    byte[] data = pattern(5);
    Transfers t = new Transfers(c, url);
    assertThat(t.put(disk, "raw", data).succeeded()).isTrue();
    // VDI.pool_migrate is for a running VM's disk, as xapi.
    assertThatThrownBy(() -> disk.poolMigrate(c, dest, Map.of()))
        .isInstanceOf(Types.VdiNeedsVmForMigrate.class);
    Host host = Host.getAll(c).iterator().next();
    Map<String, String> receive =
        host.migrateReceive(c, com.xensource.xenapi.Network.getAll(c).iterator().next(), Map.of());
    vm.migrateSend(c, receive, true, Map.of(disk, dest), Map.of(), Map.of());
    VDI moved = vm.getVBDs(c).iterator().next().getVDI(c);
    assertThat(moved).isNotEqualTo(disk);
    assertThat(moved.getSR(c)).isEqualTo(dest);
    assertThat(t.get(moved, "raw", "")).isEqualTo(data);
  }
}
