package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VIF;
import com.xensource.xenapi.VM;
import com.xensource.xenapi.VMGuestMetrics;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.xsm.server.domain.Domains;
import org.xsm.server.guest.BootImages;
import org.xsm.server.guest.SerialConsole;

/**
 * A real guest's devices beyond its boot disk: firmware boot (HVM_boot_policy "BIOS order") from
 * the first disk and from a CD VBD, each holding a boot sector that prints a message on the serial
 * port, which only runs if the firmware read it through that device; and a VIF as virtio-net on
 * user-mode networking, up in the guest with the VIF's MAC and an address from QEMU's DHCP, which
 * the guest reports on its agent port and the VM's guest metrics then show.
 */
@QuarkusTest
@TestProfile(QemuGuestBase.Qemu.class)
class QemuDevicesTest extends QemuGuestBase {

  @Test
  @SuppressWarnings("deprecation") // HVM_boot_policy: deprecated in the SDK, still what xapi reads
  void theFirmwareBootsTheFirstDiskOrTheCdAsTheBootOrderSays() throws Exception {
    var missing = BootImages.unavailable();
    assumeTrue(missing.isEmpty(), () -> "firmware boot skipped: " + missing.orElse(""));
    assumeTrue(domains.kind() == Domains.Kind.QEMU, "the server did not choose QEMU domains");
    VM vm = newVm("bios-order", 1, 64 * MIB);
    created.add(vm);
    vm.setHVMBootPolicy(c, "BIOS order");
    String token = UUID.randomUUID().toString().substring(0, 8);
    VDI disk = newVdi("bios-disk", 4 * MIB);
    Transfers transfers = new Transfers(c, url);
    byte[] raw = new byte[(int) (4 * MIB)];
    byte[] mbr = BootImages.bootSector("XSM-DISK-BOOT " + token);
    System.arraycopy(mbr, 0, raw, 0, mbr.length);
    var up = transfers.put(disk, "raw", raw);
    assertThat(up.succeeded()).as("upload of the disk: %s %s", up.status(), up.error()).isTrue();
    attachDisk(vm, disk, "0");
    byte[] iso = Files.readAllBytes(BootImages.bootCd("XSM-CD-BOOT"));
    VDI cd = newVdi("bios-cd", (iso.length + MIB - 1) / MIB * MIB);
    // A raw import is the VDI's whole size (the SR may have rounded it up).
    iso = java.util.Arrays.copyOf(iso, (int) (long) cd.getVirtualSize(c));
    up = transfers.put(cd, "raw", iso);
    assertThat(up.succeeded()).as("upload of the CD: %s %s", up.status(), up.error()).isTrue();
    VBD.create(c, vbd(vm, cd, "3", Types.VbdType.CD, Types.VbdMode.RO));

    vm.setHVMBootParams(c, Map.of("order", "c"));
    long t0 = System.nanoTime();
    vm.start(c, false, false);
    console = SerialConsole.connect(paths(vm).serial(), BOOT);
    console.await("XSM-DISK-BOOT " + token, BOOT);
    System.out.printf(
        "[figures] VM.start to the disk's boot sector running (SeaBIOS): %d ms%n",
        (System.nanoTime() - t0) / 1_000_000);
    vm.hardShutdown(c);

    vm.setHVMBootParams(c, Map.of("order", "dc"));
    vm.start(c, false, false);
    console.close();
    console = SerialConsole.connect(paths(vm).serial(), BOOT);
    String before = console.await("XSM-CD-BOOT", BOOT);
    assertThat(before).doesNotContain("XSM-DISK-BOOT");
    vm.hardShutdown(c);
  }

  @Test
  void aVifIsUpInTheGuestWithItsMacAndAnAddressFromUserModeNetworking() throws Exception {
    VM vm = newGuest("qemu-nic");
    VIF vif = newVif(vm, "0");
    String mac = vif.getMAC(c);
    assertThat(mac).isNotEmpty();
    vm.start(c, false, false);
    shell(vm);
    assertThat(console.run("cat /sys/class/net/eth0/address", CMD).trim())
        .as("the guest's NIC has the VIF's MAC")
        .isEqualToIgnoringCase(mac);
    String lease =
        console.run("ip link set eth0 up && udhcpc -i eth0 -n -q -t 10 -T 1 2>/dev/null", CMD);
    assertThat(lease).contains("XSM-DHCP eth0 10.0.2.15"); // QEMU's user-mode DHCP server
    String link = console.run("ip -o link show eth0", CMD);
    assertThat(link).containsPattern("[<,]UP[,>]").containsIgnoringCase("link/ether " + mac);
    assertThat(console.run("ip -o -4 addr show eth0", CMD)).contains("inet 10.0.2.15/24");
    // The guest said its address on its agent port: VM_guest_metrics has it for VIF 0.
    await(
        "the guest's address in its guest metrics",
        CMD,
        () -> {
          try {
            VMGuestMetrics g = vm.getGuestMetrics(c);
            return !g.toWireString().equals("OpaqueRef:NULL")
                && "10.0.2.15".equals(g.getNetworks(c).get("0/ip"));
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
    assertThat(vm.getGuestMetrics(c).getNetworks(c))
        .containsEntry("0/ipv4/0", "10.0.2.15")
        .hasSize(2);
    vm.hardShutdown(c);
  }
}
