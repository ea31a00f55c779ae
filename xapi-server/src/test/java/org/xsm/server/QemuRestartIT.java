package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xsm.server.guest.GuestImages;
import org.xsm.server.guest.SerialConsole;
import org.xsm.server.runtime.RunDirectory;

/**
 * A toolstack restart does not kill guests: the packaged server (a child process, QEMU domains)
 * starts two real guests, is stopped (SIGTERM) and later killed (kill -9), and each new server
 * finds the guest still running in the same QEMU, its VM Running, its RAM intact and its disk
 * writable again (the NBD export came back under the same name), and can shut it down.
 */
class QemuRestartIT {
  private static final String PASSWORD = "qemu-restart-pw";
  private static final long MIB = 1024L * 1024;
  private static final Duration CMD = Duration.ofSeconds(60);
  private final List<Process> servers = new ArrayList<>();
  private final List<Long> qemus = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (Process p : servers) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
    for (long pid : qemus) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  /** A running guest: its VM, serial console and QEMU pid. */
  private record Running(VM vm, Path serial, long pid) {}

  private Running startGuest(Connection c, GuestImages.Guest guest, Path data, String mark)
      throws Exception {
    VM vm = newGuest(c, guest);
    vm.start(c, false, false);
    String uuid = vm.getUuid(c);
    Path serial = RunDirectory.of(data).resolve(uuid + ".serial");
    long pid =
        Long.parseLong(Files.readString(data.resolve("domains/" + uuid + "/qemu.pid")).trim());
    qemus.add(pid);
    try (SerialConsole con = SerialConsole.connect(serial, CMD)) {
      con.awaitShell(CMD);
      con.run("echo " + mark + " > /tmp/mark", CMD);
      con.run(
          "echo before-restart | dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null", CMD);
    }
    return new Running(vm, serial, pid);
  }

  @Test
  void twoGuestsOutliveAStopAndAKill9OfTheServer() throws Exception {
    var missing = GuestImages.unavailable();
    assumeTrue(missing.isEmpty(), () -> "real guests skipped: " + missing.orElse(""));
    GuestImages.Guest guest = GuestImages.build();
    Path data = Files.createTempDirectory(Path.of("target"), "qemu-restart-").toAbsolutePath();

    int port = freePort();
    Process s1 = start(data, port, 0);
    Connection c = login(port);
    List<Running> guests =
        List.of(
            startGuest(c, guest, data, "ram-state-0"), startGuest(c, guest, data, "ram-state-1"));

    s1.destroy(); // SIGTERM: a clean stop
    assertThat(s1.waitFor(60, TimeUnit.SECONDS)).as("server stopped").isTrue();
    for (Running g : guests) {
      assertThat(ProcessHandle.of(g.pid()).map(ProcessHandle::isAlive))
          .as("QEMU after stop")
          .contains(true);
    }
    Process s2 = start(data, port, 1);
    c = login(port);
    for (int i = 0; i < guests.size(); i++) {
      assertStillManaged(c, guests.get(i), "ram-state-" + i, "after-stop", 1);
    }

    s2.destroyForcibly(); // kill -9
    s2.waitFor(30, TimeUnit.SECONDS);
    for (Running g : guests) {
      assertThat(ProcessHandle.of(g.pid()).map(ProcessHandle::isAlive))
          .as("QEMU after kill -9")
          .contains(true);
    }
    start(data, port, 2);
    c = login(port);
    for (int i = 0; i < guests.size(); i++) {
      assertStillManaged(c, guests.get(i), "ram-state-" + i, "after-kill", 2);
    }

    for (Running g : guests) {
      g.vm().hardShutdown(c);
      assertThat(g.vm().getPowerState(c)).isEqualTo(Types.VmPowerState.HALTED);
      assertThat(exited(g.pid())).as("QEMU %d after hard_shutdown", g.pid()).isTrue();
    }
  }

  /**
   * Whether the process has exited: gone, or a zombie (it has exited; its parent, the machine's
   * init since QEMU daemonized, reaps it when it will, and ProcessHandle counts it alive until
   * then).
   */
  private static boolean exited(long pid) throws Exception {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
    } catch (java.nio.file.NoSuchFileException e) {
      return true;
    }
  }

  private void assertStillManaged(Connection c, Running g, String mark, String word, long sector)
      throws Exception {
    VM vm = g.vm();
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.RUNNING);
    try (SerialConsole con = SerialConsole.connect(g.serial(), CMD)) {
      con.awaitShell(CMD);
      assertThat(con.run("cat /tmp/mark", CMD)).contains(mark);
      con.run(
          "echo "
              + word
              + " | dd of=/dev/vda bs=512 seek="
              + sector
              + " count=1 conv=sync,fsync 2>/dev/null",
          CMD);
      con.run("echo 3 > /proc/sys/vm/drop_caches", CMD);
      assertThat(con.run("dd if=/dev/vda bs=512 count=1 2>/dev/null | tr -d '\\000'", CMD))
          .contains("before-restart");
      assertThat(
              con.run(
                  "dd if=/dev/vda bs=512 skip=" + sector + " count=1 2>/dev/null | tr -d '\\000'",
                  CMD))
          .contains(word);
    }
    vm.pause(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.PAUSED);
    vm.unpause(c);
  }

  private static VM newGuest(Connection c, GuestImages.Guest guest) throws Exception {
    VM.Record r = new VM.Record();
    r.nameLabel = "restart-guest";
    r.nameDescription = "";
    r.memoryStaticMax = 192 * MIB;
    r.memoryDynamicMax = 192 * MIB;
    r.memoryDynamicMin = 192 * MIB;
    r.memoryStaticMin = 192 * MIB;
    r.VCPUsMax = 1L;
    r.VCPUsAtStartup = 1L;
    r.isATemplate = false;
    r.otherConfig = Map.of();
    r.PVKernel = guest.kernel().toString();
    r.PVRamdisk = guest.initrd().toString();
    r.PVArgs = "console=ttyS0 quiet panic=-1";
    VM vm = VM.create(c, r);
    VDI disk =
        SdkTest.newVdi(
            c,
            Pool.getAll(c).iterator().next().getDefaultSR(c),
            "restart-disk",
            16 * MIB,
            Map.of());
    var b = VmTestBase.vbd(vm, disk, "0", Types.VbdType.DISK, Types.VbdMode.RW);
    com.xensource.xenapi.VBD.create(c, b);
    return vm;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Process start(Path data, int port, int n) throws Exception {
    String jar = System.getProperty("xsm.server.jar", "target/quarkus-app/quarkus-run.jar");
    assertThat(Path.of(jar)).as("the packaged server").exists();
    Path log = data.resolveSibling(data.getFileName() + "-server-" + n + ".log");
    ProcessBuilder pb =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-jar",
            Path.of(jar).toAbsolutePath().toString());
    pb.environment().put("XSM_ROOT_PASSWORD", PASSWORD);
    pb.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
    pb.environment().put("XSM_DATA_DIR", data.toString());
    pb.environment().put("XSM_HTTPS_PORT", "0");
    pb.environment().put("XSM_NBD_PORT", "0");
    pb.environment().put("XSM_DOMAINS", "qemu");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    servers.add(p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      String l = Files.readString(log, StandardCharsets.UTF_8);
      if (!p.isAlive()) {
        fail("the server exited with " + p.exitValue() + ":\n" + l);
      }
      if (l.contains("xsm XenAPI server ready") && l.contains("Listening on:")) {
        return p;
      }
      Thread.sleep(50);
    }
    fail("the server did not get ready within 120 s:\n" + Files.readString(log));
    return p;
  }

  private static Connection login(int port) throws Exception {
    Connection c = new Connection(new URL("http://127.0.0.1:" + port + "/"));
    Session.loginWithPassword(c, "root", PASSWORD, "2.21");
    return c;
  }
}
