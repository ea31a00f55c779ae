package org.xsm.server.domain.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xsm.server.domain.DomainSpec;

/** The command line a domain spec becomes, and the spec's round trip through its state file. */
class QemuCommandTest {
  private static final QemuInstallation TCG =
      new QemuInstallation(Path.of("/usr/bin/qemu-system-x86_64"), "QEMU 7.2", false, "TCG");
  private static final DomainPaths PATHS =
      new DomainPaths(Path.of("/data/domains/u"), Path.of("/tmp/xsm-1"), "0123456789-vm");

  private static DomainSpec spec(DomainSpec.Boot boot) {
    return new DomainSpec(
        "0123456789-vm",
        "a guest",
        2,
        256L << 20,
        boot,
        List.of(
            new DomainSpec.Disk(
                "0",
                DomainSpec.DiskKind.DISK,
                Path.of("/tmp/xsm-1/nbd.sock"),
                "vdi-a",
                false,
                true,
                "aaaaaaaa-1"),
            new DomainSpec.Disk(
                "3",
                DomainSpec.DiskKind.CDROM,
                Path.of("/tmp/xsm-1/nbd.sock"),
                "vdi-b",
                true,
                false,
                "bbbbbbbb-2")),
        List.of(new DomainSpec.Nic("0", "02:00:00:00:00:01")));
  }

  @Test
  void directKernelBootWithNbdDisksACdAndANic() {
    String c =
        String.join(
            " ",
            QemuCommand.of(
                TCG,
                spec(new DomainSpec.KernelBoot("/k", "/r", "console=ttyS0")),
                PATHS,
                false,
                false));
    assertThat(c)
        .contains(
            "-accel tcg", "-m 256M", "-smp 2", "-daemonize", "-pidfile /data/domains/u/qemu.pid")
        .contains("-kernel /k -initrd /r -append console=ttyS0")
        .contains(
            "driver=nbd,node-name=disk0,server.type=unix,server.path=/tmp/xsm-1/nbd.sock,export=vdi-a,reconnect-delay=300 ")
        .contains("-device virtio-blk-pci,drive=disk0")
        .contains("export=vdi-b,reconnect-delay=300,read-only=on", "-device ide-cd,drive=disk3")
        .contains("-device virtio-net-pci,romfile=,netdev=net0,mac=02:00:00:00:00:01")
        .contains("path=/tmp/xsm-1/0123456789-vm.qmp,server=on,wait=off")
        .contains(
            "-device virtio-serial-pci,id=agentbus",
            "-chardev socket,id=agent,path=/tmp/xsm-1/0123456789-vm.agent,server=on,wait=off",
            "-device virtserialport,bus=agentbus.0,chardev=agent,name=org.xsm.guest.0")
        .doesNotContain("-S", "-incoming", "kvm");
  }

  @Test
  void firmwareBootPausedAndRestoringTakeTheirFlags() {
    List<String> c =
        QemuCommand.of(TCG, spec(new DomainSpec.FirmwareBoot("dc")), PATHS, true, true);
    assertThat(String.join(" ", c))
        .contains("-boot order=dc", "-S", "-incoming defer")
        .doesNotContain("-kernel");
    var kvm = new QemuInstallation(TCG.binary(), TCG.version(), true, "KVM");
    assertThat(
            String.join(
                " ",
                QemuCommand.of(kvm, spec(new DomainSpec.FirmwareBoot("")), PATHS, false, false)))
        .contains("-accel kvm -cpu host", "-boot order=cd");
  }

  @Test
  void theSpecSurvivesItsStateFile() throws Exception {
    ObjectMapper json = new ObjectMapper();
    DomainSpec s = spec(new DomainSpec.KernelBoot("/k", "", "quiet"));
    assertThat(json.readValue(json.writeValueAsString(s), DomainSpec.class)).isEqualTo(s);
  }
}
