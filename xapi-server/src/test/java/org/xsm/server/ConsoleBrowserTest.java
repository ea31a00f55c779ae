package org.xsm.server;

import static org.assertj.core.api.Assertions.fail;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.xsm.api.VdiDevice;
import org.xsm.server.ChildProcess.Result;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.sr.SrService;

/**
 * The admin console in a real browser: {@code src/test/clients/console_test.mjs} drives Debian's
 * chromium (headless, through playwright-core) against this test server with the demo VM, and
 * checks what an operator sees and does (see the script for the list). Its screenshots go to {@code
 * target/console-screenshots/}. Missing chromium or playwright-core fail the test, saying what to
 * install; {@code .ci/test} installs both.
 */
@QuarkusTest
@TestProfile(ConsoleBrowserTest.Demo.class)
class ConsoleBrowserTest {
  private static final Path CLIENTS = Path.of("src/test/clients");
  private static final Path SHOTS = Path.of("target/console-screenshots");
  private static final long TIMEOUT_SECONDS = 240;

  /** The server with {@code XSM_DEMO=1}. */
  public static class Demo implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("xsm.demo", "1");
    }
  }

  @TestHTTPResource("/")
  URL url;

  @Inject Database db;
  @Inject SrService storage;

  @Test
  void operatorFlowsInChromium() throws Exception {
    Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
    if (!Files.isExecutable(chromium)) {
      fail(chromium + " is missing: apt-get install chromium (or run .ci/test)");
    }
    if (!Files.isRegularFile(CLIENTS.resolve("node_modules/playwright-core/package.json"))) {
      fail(
          "the npm package playwright-core is not installed: run 'npm ci' in"
              + " xapi-server/src/test/clients (or run .ci/test)");
    }
    long t0 = System.nanoTime();
    fillDemoDisks();
    System.out.printf("filled the demo disks in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    String host = "localhost".equals(url.getHost()) ? "127.0.0.1" : url.getHost();
    Result r =
        ChildProcess.run(
            List.of(
                "node",
                "console_test.mjs",
                "http://" + host + ":" + url.getPort(),
                "xsm-test-root",
                "auditor",
                "auditor-pw",
                SHOTS.toAbsolutePath().toString(),
                "rb-vmop",
                "rb-vmop-pw"),
            CLIENTS,
            TIMEOUT_SECONDS);
    System.out.println(r.output());
    if (r.timedOut()) {
      fail("console_test.mjs did not finish within " + TIMEOUT_SECONDS + " s:\n" + r.output());
    }
    if (r.exit() != 0 || !r.output().contains("console_test: all checks passed")) {
      fail("console_test.mjs failed (exit " + r.exit() + "):\n" + r.output());
    }
  }

  /**
   * Fills the demo VM's disks through their plugin devices, so that copying the VM (1.5 GiB) takes
   * long enough for the browser to watch its task's progress even on a loaded machine.
   */
  private void fillDemoDisks() throws Exception {
    for (String name : List.of("Demo disk 0", "Demo disk 1")) {
      List<Ref<org.xsm.server.model.Vdi>> disks =
          db.where(org.xsm.server.model.Vdi.NAME_LABEL, name);
      if (disks.size() != 1) {
        fail("expected one '" + name + "' from XSM_DEMO, found " + disks.size());
      }
      VdiDevice dev = storage.activate(disks.get(0), true);
      try {
        byte[] chunk = new byte[2 * 1024 * 1024];
        new Random(9).nextBytes(chunk);
        for (long off = 0; off < dev.sizeBytes(); off += chunk.length) {
          dev.write(
              ByteBuffer.wrap(chunk, 0, (int) Math.min(chunk.length, dev.sizeBytes() - off)), off);
        }
        dev.flush();
      } finally {
        storage.deactivate(disks.get(0));
      }
    }
  }
}
