package org.xsm.server;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.xsm.server.domain.Domains;
import org.xsm.server.domain.qemu.DomainPaths;
import org.xsm.server.guest.GuestImages;
import org.xsm.server.guest.SerialConsole;
import org.xsm.server.runtime.RunDirectory;

/**
 * What the tests of real guests share: the QEMU profile, the test guest (built once, cached), a
 * guest VM with one disk, its serial console, and stopping every guest a test started (domains
 * outlive the server by design).
 */
abstract class QemuGuestBase extends VmTestBase {
  /** QEMU when installed (else the simulator, and these tests skip). */
  public static class Qemu implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("xsm.domains", "auto", "xsm.domain-shutdown-timeout-s", "15");
    }
  }

  protected static final Duration BOOT = Duration.ofSeconds(60);
  protected static final Duration CMD = Duration.ofSeconds(30);
  protected static GuestImages.Guest guest;

  @Inject Domains domains;
  @Inject RunDirectory runDirectory;

  protected DomainPaths paths(VM vm) throws Exception {
    String uuid = vm.getUuid(c);
    return new DomainPaths(
        runDirectory.dataDir().resolve("domains").resolve(uuid), runDirectory.path(), uuid);
  }

  protected SerialConsole console;

  @BeforeAll
  static void buildGuest() throws Exception {
    var missing = GuestImages.unavailable();
    assumeTrue(missing.isEmpty(), () -> "real guests skipped: " + missing.orElse(""));
    guest = GuestImages.build();
  }

  protected final java.util.List<VM> created = new java.util.ArrayList<>();

  /** A failed test must not leave its QEMU running (domains outlive the server by design). */
  @AfterEach
  void closeConsoleAndStopGuests() throws Exception {
    if (console != null) {
      console.close();
    }
    for (VM vm : created) {
      Types.VmPowerState s = vm.getPowerState(c);
      if (s == Types.VmPowerState.RUNNING || s == Types.VmPowerState.PAUSED) {
        vm.hardShutdown(c);
      }
    }
  }

  protected VM newGuest(String name) throws Exception {
    return newGuest(name, 192);
  }

  /** A guest with {@code memoryMib} of RAM. */
  protected VM newGuest(String name, long memoryMib) throws Exception {
    assumeTrue(domains.kind() == Domains.Kind.QEMU, "the server did not choose QEMU domains");
    VM vm = newVm(name, 1, memoryMib * MIB);
    vm.setPVBootloader(c, "");
    vm.setPVKernel(c, guest.kernel().toString());
    vm.setPVRamdisk(c, guest.initrd().toString());
    vm.setPVArgs(c, "console=ttyS0 quiet panic=-1");
    VDI disk = newVdi(name + "-disk", 16 * MIB);
    attachDisk(vm, disk, "0");
    created.add(vm);
    return vm;
  }

  /** Connects to the guest's serial console and waits for its shell. */
  protected SerialConsole shell(VM vm) throws Exception {
    if (console != null) {
      console.close();
    }
    var paths = paths(vm);
    console = SerialConsole.connect(paths.serial(), BOOT);
    console.awaitShell(BOOT);
    return console;
  }

  protected void writeSector(long sector, String text) throws Exception {
    console.run(
        "echo "
            + text
            + " | dd of=/dev/vda bs=512 seek="
            + sector
            + " count=1 conv=sync,fsync 2>/dev/null",
        CMD);
  }

  protected String readSector(long sector) throws Exception {
    return console.run(
        "dd if=/dev/vda bs=512 skip=" + sector + " count=1 2>/dev/null | tr -d '\\000'", CMD);
  }

  protected static void await(String what, Duration timeout, BooleanSupplier condition)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not within " + timeout);
      }
      Thread.sleep(50);
    }
  }
}
