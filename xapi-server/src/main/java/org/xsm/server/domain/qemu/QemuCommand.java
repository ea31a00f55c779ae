package org.xsm.server.domain.qemu;

import java.util.ArrayList;
import java.util.List;
import org.xsm.server.domain.DomainSpec;

/**
 * The QEMU command line of a domain. The machine is a plain {@code pc} (the {@code microvm} machine
 * was seen to hang), no default devices, no display; the process daemonizes (so it outlives the
 * server) and writes its pid. The monitor (QMP) and the first serial port are UNIX sockets that
 * QEMU serves: the server and any later server connect to the monitor, a console client to the
 * serial port, and output nobody reads is dropped rather than blocking the guest.
 *
 * <p>Disks are NBD clients of the server's local socket, with {@code reconnect-delay}: while the
 * server restarts, guest I/O waits instead of failing, and completes when the export is back.
 */
final class QemuCommand {
  /** Seconds guest I/O waits for a lost NBD connection to come back (a toolstack restart). */
  static final int NBD_RECONNECT_SECONDS = 300;

  private QemuCommand() {}

  static List<String> of(
      QemuInstallation qemu, DomainSpec spec, DomainPaths paths, boolean paused, boolean incoming) {
    List<String> c = new ArrayList<>();
    c.add(qemu.binary().toString());
    c.addAll(
        List.of("-name", "xsm-" + spec.vmUuid() + ",process=xsm-" + spec.vmUuid().substring(0, 8)));
    c.addAll(List.of("-M", "pc", "-nodefaults", "-no-user-config", "-display", "none"));
    if (qemu.kvm()) {
      c.addAll(List.of("-accel", "kvm", "-cpu", "host"));
    } else {
      c.addAll(List.of("-accel", "tcg"));
    }
    c.addAll(List.of("-m", (spec.memoryBytes() >> 20) + "M", "-smp", Long.toString(spec.vcpus())));
    c.addAll(List.of("-daemonize", "-pidfile", paths.pidFile().toString()));
    c.addAll(List.of("-chardev", "socket,id=qmp,path=" + paths.qmp() + ",server=on,wait=off"));
    c.addAll(List.of("-mon", "chardev=qmp,mode=control"));
    c.addAll(
        List.of("-chardev", "socket,id=serial0,path=" + paths.serial() + ",server=on,wait=off"));
    c.addAll(List.of("-serial", "chardev:serial0"));
    // The guest's agent port (GuestChannel): what the guest tells the host, e.g. its addresses.
    c.addAll(List.of("-device", "virtio-serial-pci,id=agentbus"));
    c.addAll(List.of("-chardev", "socket,id=agent,path=" + paths.agent() + ",server=on,wait=off"));
    c.addAll(
        List.of(
            "-device",
            "virtserialport,bus=agentbus.0,chardev=agent,name=" + GuestChannel.PORT_NAME));
    // The screen, for the console proxy (guestconsole/): a standard VGA card on a VNC server.
    c.addAll(List.of("-vga", "std", "-vnc", "unix:" + paths.vnc()));
    if (spec.boot() instanceof DomainSpec.KernelBoot k) {
      c.addAll(List.of("-kernel", k.kernel()));
      if (!k.ramdisk().isEmpty()) {
        c.addAll(List.of("-initrd", k.ramdisk()));
      }
      c.addAll(List.of("-append", k.args()));
    } else if (spec.boot() instanceof DomainSpec.FirmwareBoot f) {
      c.addAll(List.of("-boot", "order=" + (f.order().isEmpty() ? "cd" : f.order())));
    }
    int ide = 0;
    for (DomainSpec.Disk d : spec.disks()) {
      String node = "disk" + d.userdevice();
      boolean ro = d.readOnly() || d.kind() == DomainSpec.DiskKind.CDROM;
      c.addAll(
          List.of(
              "-blockdev",
              "driver=nbd,node-name="
                  + node
                  + ",server.type=unix,server.path="
                  + d.socket()
                  + ",export="
                  + d.export()
                  + ",reconnect-delay="
                  + NBD_RECONNECT_SECONDS
                  + (ro ? ",read-only=on" : "")));
      if (d.kind() == DomainSpec.DiskKind.CDROM) {
        c.addAll(List.of("-device", "ide-cd,drive=" + node + ",bus=ide." + (ide++ / 2)));
      } else {
        c.addAll(
            List.of(
                "-device",
                "virtio-blk-pci,drive=" + node + ",serial=" + d.vdiUuid().substring(0, 8)));
      }
    }
    for (DomainSpec.Nic n : spec.nics()) {
      c.addAll(List.of("-netdev", "user,id=net" + n.device()));
      c.addAll(
          List.of(
              "-device",
              "virtio-net-pci,romfile=,netdev=net"
                  + n.device()
                  + (n.mac().isEmpty() ? "" : ",mac=" + n.mac())));
    }
    if (paused || incoming) {
      c.add("-S");
    }
    if (incoming) {
      c.addAll(List.of("-incoming", "defer"));
    }
    return c;
  }
}
