package org.xsm.server;

import static org.assertj.core.api.Assertions.fail;

import com.xensource.xenapi.Types;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.xsm.server.ChildProcess.Result;
import org.xsm.server.guestconsole.ConsoleEndpoint;
import org.xsm.server.guestconsole.QemuDisplay;
import org.xsm.server.guestconsole.TestConsoleEndpoints;
import org.xsm.server.model.ConsoleProtocol;
import org.xsm.server.model.Ref;

/**
 * The admin console's Console card in a real browser: {@code src/test/clients/vm_screen_test.mjs}
 * drives Debian's chromium against a VM running on a real QEMU (registered through the test-only
 * {@link TestConsoleEndpoints}): noVNC shows its screen (the canvas is checked non-blank;
 * screenshots in {@code target/console-screenshots/}), the serial console shows text, a read-only
 * user may not connect. Skipped, saying why, without QEMU; missing chromium or playwright-core
 * fail, as in {@link ConsoleBrowserTest}.
 */
@QuarkusTest
class GuestConsoleBrowserTest extends SdkTest {
  private static final Path CLIENTS = Path.of("src/test/clients");
  private static final Path SHOTS = Path.of("target/console-screenshots");
  private static final long TIMEOUT_SECONDS = 240;

  @Inject TestConsoleEndpoints endpoints;

  @Test
  void vmScreenAndSerialInChromium() throws Exception {
    Assumptions.assumeTrue(QemuDisplay.missing() == null, QemuDisplay.missing());
    Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
    if (!Files.isExecutable(chromium)) {
      fail(chromium + " is missing: apt-get install chromium (or run .ci/test)");
    }
    if (!Files.isRegularFile(CLIENTS.resolve("node_modules/playwright-core/package.json"))) {
      fail(
          "the npm package playwright-core is not installed: run 'npm ci' in"
              + " xapi-server/src/test/clients (or run .ci/test)");
    }
    try (QemuDisplay qemu = QemuDisplay.start()) {
      VM vm = newVm("screen test", 1, 256L * 1024 * 1024);
      Ref<org.xsm.server.model.Vm> ref = Ref.of(vm.toWireString());
      endpoints.register(ref, ConsoleProtocol.RFB, ConsoleEndpoint.unixSocket(qemu.vncSocket()));
      endpoints.register(
          ref, ConsoleProtocol.VT100, ConsoleEndpoint.unixSocket(qemu.monitorSocket()));
      VM simulated = newVm("simulated", 1, 256L * 1024 * 1024);
      try {
        vm.start(c, false, false);
        simulated.start(c, false, false);
        String host = "localhost".equals(url.getHost()) ? "127.0.0.1" : url.getHost();
        Result r =
            ChildProcess.run(
                List.of(
                    "node",
                    "vm_screen_test.mjs",
                    "http://" + host + ":" + url.getPort(),
                    "xsm-test-root",
                    "screen test",
                    "QEMU",
                    "auditor",
                    "auditor-pw",
                    SHOTS.toAbsolutePath().toString(),
                    "simulated"),
                CLIENTS,
                TIMEOUT_SECONDS);
        System.out.println(r.output());
        if (r.timedOut()) {
          fail(
              "vm_screen_test.mjs did not finish within " + TIMEOUT_SECONDS + " s:\n" + r.output());
        }
        if (r.exit() != 0 || !r.output().contains("vm_screen_test: all checks passed")) {
          fail("vm_screen_test.mjs failed (exit " + r.exit() + "):\n" + r.output());
        }
      } finally {
        if (vm.getPowerState(c) == Types.VmPowerState.RUNNING) {
          vm.hardShutdown(c);
        }
        endpoints.forget(ref);
        vm.destroy(c);
        if (simulated.getPowerState(c) == Types.VmPowerState.RUNNING) {
          simulated.hardShutdown(c);
        }
        simulated.destroy(c);
      }
    }
  }
}
