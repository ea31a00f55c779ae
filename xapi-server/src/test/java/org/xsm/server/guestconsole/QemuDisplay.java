package org.xsm.server.guestconsole;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real QEMU for console tests, with no guest OS: its firmware (SeaBIOS) draws on a standard VGA
 * card that QEMU serves over VNC on a unix socket ({@code -vnc unix:PATH}), and its human monitor
 * on a second socket stands in for a serial console (it prints a banner and answers commands;
 * without a guest nothing writes to the serial port). Software emulation ({@code -accel tcg}): see
 * shared/reference/guests.md for why not KVM.
 */
public final class QemuDisplay implements AutoCloseable {
  public static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

  private final Path dir;
  private final Process process;

  private QemuDisplay(Path dir, Process process) {
    this.dir = dir;
    this.process = process;
  }

  /** Why the tests cannot run here, or null when QEMU is installed. */
  public static String missing() {
    return Files.isExecutable(QEMU)
        ? null
        : QEMU + " is missing: apt-get install qemu-system-x86 (.ci/test installs it)";
  }

  /** Starts QEMU and waits (up to 30 s) until both sockets exist. */
  public static QemuDisplay start() throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "xsm-qemu-");
    Path log = dir.resolve("qemu.log");
    Process p =
        new ProcessBuilder(
                List.of(
                    QEMU.toString(),
                    "-accel",
                    "tcg",
                    "-M",
                    "pc",
                    "-m",
                    "32",
                    "-nodefaults",
                    "-vga",
                    "std",
                    "-display",
                    "none",
                    "-vnc",
                    "unix:" + dir.resolve("vnc.sock"),
                    "-monitor",
                    "unix:" + dir.resolve("monitor.sock") + ",server=on,wait=off"))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    QemuDisplay q = new QemuDisplay(dir, p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!(Files.exists(q.vncSocket()) && Files.exists(q.monitorSocket()))) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        String out = Files.exists(log) ? Files.readString(log) : "";
        q.close();
        throw new IOException("QEMU did not open its sockets: " + out);
      }
      p.waitFor(50, TimeUnit.MILLISECONDS);
    }
    return q;
  }

  public Path vncSocket() {
    return dir.resolve("vnc.sock");
  }

  public Path monitorSocket() {
    return dir.resolve("monitor.sock");
  }

  @Override
  public void close() throws IOException, InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    }
  }
}
