package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Message;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Real guests under QEMU (TCG here), driven through the XenAPI (Java SDK) and observed on their
 * serial console: boot time, disk data across power cycles, ACPI shutdown, suspend/resume of a
 * RAM-only counter, snapshot + revert throwing away later writes, and a crash. Skipped, with the
 * reason, where QEMU or the guest's ingredients are missing.
 */
@QuarkusTest
@TestProfile(QemuGuestBase.Qemu.class)
class QemuGuestTest extends QemuGuestBase {
  @Test
  void bootsToAShellAndDiskWritesSurviveAHardShutdown() throws Exception {
    VM vm = newGuest("qemu-disk");
    long t0 = System.nanoTime();
    vm.start(c, false, false);
    shell(vm);
    long readyMs = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf(
        "[figures] VM.start to guest shell: %d ms (%s, TCG)%n", readyMs, guest.kernelPackage());
    assertThat(readyMs).as("start to shell").isLessThan(BOOT.toMillis());
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.RUNNING);
    assertThat(vm.getMetrics(c).getVCPUsNumber(c)).isEqualTo(1L);
    assertThat(vm.getMetrics(c).getMemoryActual(c)).isEqualTo(192 * MIB);
    assertThat(console.run("cat /sys/block/vda/size", CMD).trim())
        .isEqualTo(Long.toString(16 * MIB / 512));

    String word = "persist-" + UUID.randomUUID().toString().substring(0, 8);
    writeSector(100, word);
    vm.hardShutdown(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.HALTED);
    vm.start(c, false, false);
    shell(vm);
    assertThat(readSector(100)).contains(word);
    vm.hardShutdown(c);
  }

  /**
   * Opens {@code CONNECT /console?ref=} on the plain listener; returns the socket after the 200.
   */
  private java.net.Socket tunnel(com.xensource.xenapi.Console con) throws Exception {
    java.net.Socket s = new java.net.Socket(url.getHost(), url.getPort());
    s.setSoTimeout(30_000);
    String req =
        "CONNECT /console?ref="
            + con.toWireString()
            + "&session_id="
            + c.getSessionReference()
            + " HTTP/1.1\r\nHost: "
            + url.getHost()
            + "\r\n\r\n";
    s.getOutputStream().write(req.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    StringBuilder head = new StringBuilder();
    java.io.InputStream in = s.getInputStream();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      assertThat(b).as("the proxy's answer ended early: %s", head).isNotNegative();
      head.append((char) b);
    }
    assertThat(head.toString()).startsWith("HTTP/1.1 200");
    return s;
  }

  @Test
  void theScreenAndTheSerialPortAreServedThroughTheConsoleProxy() throws Exception {
    VM vm = newGuest("qemu-console");
    vm.start(c, false, false);
    shell(vm);
    console.close(); // the serial port takes one client at a time: now the proxy's
    console = null;
    Map<Types.ConsoleProtocol, com.xensource.xenapi.Console> byProtocol = new java.util.HashMap<>();
    for (com.xensource.xenapi.Console con : vm.getConsoles(c)) {
      byProtocol.put(con.getProtocol(c), con);
    }
    assertThat(byProtocol).containsKeys(Types.ConsoleProtocol.RFB, Types.ConsoleProtocol.VT100);
    assertThat(byProtocol.get(Types.ConsoleProtocol.RFB).getLocation(c)).contains("/console?ref=");

    try (java.net.Socket s = tunnel(byProtocol.get(Types.ConsoleProtocol.RFB))) {
      java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
      byte[] banner = new byte[12];
      in.readFully(banner);
      assertThat(new String(banner, java.nio.charset.StandardCharsets.US_ASCII))
          .startsWith("RFB 003.00");
      s.getOutputStream()
          .write("RFB 003.008\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      byte[] types = new byte[in.readUnsignedByte()];
      in.readFully(types);
      assertThat(types).contains((byte) 1); // None: the proxy checked the session
      s.getOutputStream().write(new byte[] {1});
      assertThat(in.readInt()).as("security result").isZero();
      s.getOutputStream().write(new byte[] {1}); // ClientInit, shared
      int width = in.readUnsignedShort();
      int height = in.readUnsignedShort();
      assertThat(width).as("the guest's screen width").isPositive();
      assertThat(height).as("the guest's screen height").isPositive();
    }

    String word = "proxied-" + UUID.randomUUID().toString().substring(0, 8);
    try (java.net.Socket s = tunnel(byProtocol.get(Types.ConsoleProtocol.VT100))) {
      s.getOutputStream()
          .write(("echo " + word + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      java.io.InputStream in = s.getInputStream();
      StringBuilder seen = new StringBuilder();
      // The shell's answer (and maybe the echo of the line): read until the word comes back.
      while (seen.indexOf(word) < 0) {
        int b = in.read();
        assertThat(b).as("the serial console ended before answering: %s", seen).isNotNegative();
        seen.append((char) b);
      }
    }
    vm.hardShutdown(c);
    assertThat(vm.getConsoles(c)).isEmpty();
  }

  @Test
  void xenApiPyDrivesARealGuestThroughItsPowerCycle() throws Exception {
    VM vm = newGuest("qemu-xenapi-py");
    ChildProcess.Result r =
        ChildProcess.run(
            java.util.List.of(
                "/usr/bin/python3",
                "src/test/clients/xenapi_py_guest_test.py",
                "http://127.0.0.1:" + url.getPort(),
                "root",
                "xsm-test-root",
                vm.getUuid(c)),
            null,
            300);
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("xenapi_py_guest_test: all checks passed");
    assertThat(domains.exists(vm.getUuid(c))).as("no QEMU left after the clean shutdown").isFalse();
  }

  @Test
  void cleanShutdownPressesThePowerButton() throws Exception {
    VM vm = newGuest("qemu-acpi");
    vm.start(c, false, false);
    shell(vm);
    long t0 = System.nanoTime();
    vm.cleanShutdown(c);
    System.out.printf(
        "[figures] VM.clean_shutdown (ACPI): %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.HALTED);
    assertThat(domains.exists(vm.getUuid(c))).isFalse();
  }

  @Test
  void aGuestThatIgnoresThePowerButtonTimesOut() throws Exception {
    VM vm = newGuest("qemu-deaf");
    vm.start(c, false, false);
    shell(vm);
    console.run(
        "printf '#!/bin/sh\\n' > /etc/acpi/PWRF/00000080", CMD); // the button now does nothing
    long t0 = System.nanoTime();
    assertThat(fails("VM.clean_shutdown", vm))
        .containsExactly("VM_SHUTDOWN_TIMEOUT", vm.toWireString(), "15.0");
    System.out.printf(
        "[figures] VM.clean_shutdown refused after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.RUNNING);
    assertThat(console.run("echo still-here", CMD)).contains("still-here");
    vm.hardShutdown(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.HALTED);
  }

  @Test
  void suspendAndResumeKeepARamOnlyCounterGoing() throws Exception {
    VM vm = newGuest("qemu-suspend");
    vm.start(c, false, false);
    shell(vm);
    console.run("(i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.1; done) &", CMD);
    await("counter above 5", CMD, () -> counter() > 5);
    vm.pause(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.PAUSED);
    vm.unpause(c);
    long before = counter();

    long t0 = System.nanoTime();
    vm.suspend(c);
    long suspendMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.SUSPENDED);
    VDI image = vm.getSuspendVDI(c);
    assertThat(image.getType(c)).isEqualTo(Types.VdiType.SUSPEND);
    assertThat(domains.exists(vm.getUuid(c))).isFalse();

    t0 = System.nanoTime();
    vm.resume(c, false, false);
    long resumeMs = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf(
        "[figures] VM.suspend %d ms, VM.resume %d ms (192 MiB guest)%n", suspendMs, resumeMs);
    shell(vm);
    long after = counter();
    assertThat(after)
        .as("the counter lives in the guest's RAM only")
        .isGreaterThanOrEqualTo(before);
    await("counter moving on after resume", CMD, () -> counter() > after);
    vm.hardShutdown(c);
  }

  @Test
  void aCheckpointRevertedAndResumedIsThatMomentAgain() throws Exception {
    VM vm = newGuest("qemu-checkpoint", 256); // the figure is for a 256 MiB guest
    vm.start(c, false, false);
    shell(vm);
    console.run("(i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.1; done) &", CMD);
    writeSector(30, "at-checkpoint");
    String token = "token-" + UUID.randomUUID(); // in RAM only (the guest's root is its initramfs)
    console.run("echo " + token + " > /tmp/token", CMD);
    await("counter above 3", CMD, () -> counter() > 3);
    long t0 = System.nanoTime();
    VM cp = vm.checkpoint(c, "with memory");
    System.out.printf(
        "[figures] VM.checkpoint (256 MiB guest): %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    long atCheckpoint = counter();
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.RUNNING);
    assertThat(cp.getPowerState(c)).isEqualTo(Types.VmPowerState.SUSPENDED);
    await("the guest runs on after the checkpoint", CMD, () -> counter() > atCheckpoint + 5);
    console.run("echo later > /tmp/after-checkpoint", CMD);
    console.run("echo replaced-after-checkpoint > /tmp/token", CMD);
    writeSector(40, "after-checkpoint");

    t0 = System.nanoTime();
    cp.revert(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.SUSPENDED);
    vm.resume(c, false, false);
    System.out.printf(
        "[figures] VM.revert to the checkpoint + VM.resume: %d ms%n",
        (System.nanoTime() - t0) / 1_000_000);
    shell(vm);
    assertThat(console.run("cat /tmp/after-checkpoint 2>&1", CMD)).contains("No such file");
    assertThat(console.run("cat /tmp/token", CMD).trim())
        .as("the RAM-only value of the checkpoint's moment")
        .isEqualTo(token);
    long resumed = counter(); // the counter of the checkpoint's RAM, not a fresh boot's
    await("the counter moving on from the checkpoint", CMD, () -> counter() > resumed);
    assertThat(readSector(30)).contains("at-checkpoint");
    assertThat(readSector(40)).doesNotContain("after-checkpoint");
    vm.hardShutdown(c);
  }

  private long counter() {
    try {
      // The loop rewrites the file: a read between truncation and write sees it empty.
      String v = console.run("cat /tmp/counter", CMD).trim();
      for (int i = 0; v.isEmpty() && i < 20; i++) {
        v = console.run("cat /tmp/counter", CMD).trim();
      }
      return Long.parseLong(v);
    } catch (Exception e) {
      throw new AssertionError("reading the counter: " + e, e);
    }
  }

  @Test
  void revertToASnapshotThrowsAwayLaterWrites() throws Exception {
    VM vm = newGuest("qemu-revert");
    vm.start(c, false, false);
    shell(vm);
    writeSector(10, "kept-before-snapshot");
    VM snap = vm.snapshot(c, "before the experiment"); // the guest runs on
    writeSector(20, "thrown-away-after-snapshot");
    assertThat(readSector(20)).contains("thrown-away");
    snap.revert(c);
    assertThat(vm.getPowerState(c)).isEqualTo(Types.VmPowerState.HALTED);
    vm.start(c, false, false);
    shell(vm);
    assertThat(readSector(10)).contains("kept-before-snapshot");
    assertThat(readSector(20)).doesNotContain("thrown-away");
    vm.hardShutdown(c);
  }

  @Test
  void aGuestThatPowersItselfOffIsHaltedNotCrashed() throws Exception {
    VM vm = newGuest("qemu-poweroff"); // actions_after_shutdown: destroy (the default)
    vm.start(c, false, false);
    shell(vm);
    console.run("(sleep 0.2; poweroff -f) &", CMD);
    await(
        "VM halted after the guest's poweroff",
        Duration.ofSeconds(30),
        () -> {
          try {
            return vm.getPowerState(c) == Types.VmPowerState.HALTED;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
    String uuid = vm.getUuid(c);
    assertThat(Message.getAllRecords(c).values())
        .noneSatisfy(m -> assertThat(m.objUuid).isEqualTo(uuid));
    assertThat(domains.exists(uuid)).isFalse();
  }

  @Test
  void aKilledQemuIsACrash() throws Exception {
    VM vm = newGuest("qemu-crash");
    vm.setActionsAfterCrash(c, Types.OnCrashBehaviour.DESTROY);
    vm.start(c, false, false);
    var paths = paths(vm);
    long pid = Long.parseLong(Files.readString(paths.pidFile()).trim());
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    await(
        "VM halted after the crash",
        Duration.ofSeconds(30),
        () -> {
          try {
            return vm.getPowerState(c) == Types.VmPowerState.HALTED;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
    String uuid = vm.getUuid(c);
    assertThat(Message.getAllRecords(c).values())
        .anySatisfy(
            m -> {
              assertThat(m.name).isEqualTo("VM_CRASHED");
              assertThat(m.objUuid).isEqualTo(uuid);
            });
    assertThat(vm.getVBDs(c)).allSatisfy(b -> assertThat(b.getCurrentlyAttached(c)).isFalse());
  }
}
