package org.xsm.server.guest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/**
 * Builds a small real guest for the QEMU tests: Debian's kernel ({@code linux-image-*-amd64}
 * fetched with {@code apt-get download}, unpacked with {@code dpkg-deb -x}, its xz payload turned
 * back into the ELF {@code vmlinux}, which QEMU boots directly through its PVH entry) and an
 * initramfs of busybox-static whose {@code /init} loads the virtio and ext4 modules, starts an ACPI
 * daemon (so the power button powers it off) and runs a shell on the serial console. Results are
 * cached under {@code target/guest-cache/<package>_<version>/}, so only the first run pays.
 */
public final class GuestImages {
  /** Changes whenever the initramfs's content changes, so a cached one is not reused. */
  private static final String INIT_VERSION = "6";

  private static final List<String> MODULES =
      List.of(
          "drivers/virtio/virtio_ring",
          "drivers/virtio/virtio",
          "drivers/virtio/virtio_pci_modern_dev",
          "drivers/virtio/virtio_pci_legacy_dev",
          "drivers/virtio/virtio_pci",
          "drivers/block/virtio_blk",
          // the VIFs' virtio-net
          "net/core/failover",
          "drivers/net/net_failover",
          "drivers/net/virtio_net",
          // the host's agent port (virtio-serial), where the DHCP script says its address
          "drivers/char/virtio_console",
          "drivers/acpi/button",
          "drivers/input/evdev",
          // ext2 through the ext4 driver, for tests with a filesystem on the disk
          "lib/crc16",
          "fs/mbcache",
          "fs/jbd2/jbd2",
          "crypto/crc32c_generic",
          "fs/ext4/ext4");

  /**
   * The init script. acpid runs in the foreground, in the background of init: daemonized it leads a
   * session of its own with the console as its terminal, and its end then hangs the console up,
   * ending init's shell (a panic).
   */
  private static final String INIT =
      """
      #!/bin/busybox sh
      /bin/busybox --install -s /bin
      export PATH=/bin
      mkdir -p /proc /sys /dev /tmp /var/run /var/log
      mount -t proc proc /proc
      mount -t sysfs sysfs /sys
      mount -t devtmpfs devtmpfs /dev
      for m in %s; do insmod /lib/modules/$m.ko; done
      acpid -f -c /etc/acpi -l /tmp/acpid.log &
      echo XSM-GUEST-READY
      exec sh
      """;

  private static final String POWER_BUTTON = "#!/bin/sh\nsync\npoweroff -f\n";

  /**
   * busybox udhcpc's script (Debian's busybox looks for it in /etc/udhcpc): the lease's address on
   * the interface, said on the console and, as {@code ip <mac> <address>}, on the host's agent port
   * (the virtio-serial port named org.xsm.guest.0), which fills the VM's guest metrics.
   */
  private static final String DHCP_SCRIPT =
      """
      #!/bin/sh
      case "$1" in
        bound|renew)
          ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}"
          echo "XSM-DHCP $interface $ip"
          for p in /sys/class/virtio-ports/*; do
            if [ "$(cat "$p/name" 2>/dev/null)" = org.xsm.guest.0 ]; then
              echo "ip $(cat /sys/class/net/$interface/address) $ip" > "/dev/${p##*/}"
            fi
          done
          ;;
      esac
      """;

  /** A kernel and initramfs ready for {@code PV_kernel}/{@code PV_ramdisk}. */
  public record Guest(Path kernel, Path initrd, String kernelPackage) {}

  private GuestImages() {}

  /** Why real guests cannot run here, or empty if they can. */
  public static Optional<String> unavailable() {
    for (String tool : List.of("qemu-system-x86_64", "apt-get", "dpkg-deb", "xz")) {
      if (which(tool).isEmpty()) {
        return Optional.of(
            tool + " is not installed (apt-get install qemu-system-x86 busybox-static)");
      }
    }
    if (!Files.isExecutable(Path.of("/bin/busybox"))) {
      return Optional.of("/bin/busybox is not installed (apt-get install busybox-static)");
    }
    return Optional.empty();
  }

  private static Optional<Path> which(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      Path p = Path.of(dir, tool);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** The guest, built or taken from the cache. */
  public static synchronized Guest build() throws IOException, InterruptedException {
    String pkg = kernelPackage();
    String version =
        line(run(List.of("apt-cache", "show", "--no-all-versions", pkg), null), "Version: ");
    Path dir = Path.of("target", "guest-cache", pkg + "_" + version).toAbsolutePath();
    Files.createDirectories(dir);
    Path vmlinux = dir.resolve("vmlinux");
    Path initrd = dir.resolve("initrd-" + INIT_VERSION + ".gz");
    if (Files.exists(vmlinux) && Files.exists(initrd)) {
      return new Guest(vmlinux, initrd, pkg + " " + version);
    }
    Path tree = dir.resolve("tree");
    if (!Files.isDirectory(tree.resolve("boot"))) {
      Path debs = dir.resolve("deb");
      Files.createDirectories(debs);
      run(List.of("apt-get", "download", pkg), debs);
      Path deb;
      try (var s = Files.list(debs)) {
        deb =
            s.filter(p -> p.toString().endsWith(".deb"))
                .findFirst()
                .orElseThrow(
                    () -> new IOException("apt-get download " + pkg + " left no .deb in " + debs));
      }
      run(List.of("dpkg-deb", "-x", deb.toString(), tree.toString()), null);
    }
    String kver;
    try (var s = Files.list(tree.resolve("lib/modules"))) {
      kver = s.findFirst().orElseThrow().getFileName().toString();
    }
    if (!Files.exists(vmlinux)) {
      extractVmlinux(tree.resolve("boot/vmlinuz-" + kver), vmlinux);
    }
    writeInitrd(tree.resolve("lib/modules/" + kver + "/kernel"), initrd);
    return new Guest(vmlinux, initrd, pkg + " " + version);
  }

  /** The concrete package behind {@code linux-image-amd64} (e.g. linux-image-6.1.0-57-amd64). */
  private static String kernelPackage() throws IOException, InterruptedException {
    String deps = run(List.of("apt-cache", "depends", "linux-image-amd64"), null);
    return line(deps, "Depends: ");
  }

  private static String line(String text, String prefix) throws IOException {
    return text.lines()
        .map(String::trim)
        .filter(l -> l.startsWith(prefix))
        .map(l -> l.substring(prefix.length()).trim())
        .findFirst()
        .orElseThrow(() -> new IOException("no '" + prefix + "' in: " + text));
  }

  /**
   * The kernel's ELF image: the bzImage holds it xz-compressed after the setup code; find the xz
   * stream's magic and decompress one stream (what the kernel's scripts/extract-vmlinux does).
   */
  static void extractVmlinux(Path bzImage, Path vmlinux) throws IOException, InterruptedException {
    byte[] image = Files.readAllBytes(bzImage);
    byte[] magic = {(byte) 0xfd, '7', 'z', 'X', 'Z', 0};
    int at = indexOf(image, magic);
    if (at < 0) {
      throw new IOException(bzImage + " holds no xz stream");
    }
    Path tmp = vmlinux.resolveSibling(vmlinux.getFileName() + ".tmp");
    Process p =
        new ProcessBuilder("xz", "-dc", "--single-stream")
            .redirectOutput(tmp.toFile())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(image, at, image.length - at);
    } catch (IOException e) {
      // xz stops reading after its one stream; the rest of the bzImage is not needed
    }
    p.waitFor(60, TimeUnit.SECONDS);
    byte[] head = new byte[4];
    try (InputStream in = Files.newInputStream(tmp)) {
      if (in.readNBytes(head, 0, 4) != 4
          || head[0] != 0x7f
          || head[1] != 'E'
          || head[2] != 'L'
          || head[3] != 'F') {
        throw new IOException("the xz payload of " + bzImage + " is not an ELF kernel");
      }
    }
    Files.move(tmp, vmlinux, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static void writeInitrd(Path moduleTree, Path initrd) throws IOException {
    Path tmp = initrd.resolveSibling(initrd.getFileName() + ".tmp");
    StringBuilder names = new StringBuilder();
    try (Cpio c = new Cpio(new GZIPOutputStream(Files.newOutputStream(tmp)))) {
      for (String d :
          List.of("bin", "lib", "lib/modules", "etc", "etc/acpi", "etc/acpi/PWRF", "etc/udhcpc")) {
        c.directory(d);
      }
      c.file("bin/busybox", 0755, Files.readAllBytes(Path.of("/bin/busybox")));
      for (String m : MODULES) {
        String name = m.substring(m.lastIndexOf('/') + 1);
        c.file(
            "lib/modules/" + name + ".ko", 0644, Files.readAllBytes(moduleTree.resolve(m + ".ko")));
        names.append(names.length() == 0 ? "" : " ").append(name);
      }
      c.file("etc/udhcpc/default.script", 0755, DHCP_SCRIPT.getBytes(StandardCharsets.US_ASCII));
      c.file("etc/acpi/PWRF/00000080", 0755, POWER_BUTTON.getBytes(StandardCharsets.US_ASCII));
      c.file("init", 0755, INIT.formatted(names).getBytes(StandardCharsets.US_ASCII));
    }
    Files.move(tmp, initrd, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static String run(List<String> cmd, Path dir) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }
}
