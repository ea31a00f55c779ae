package org.xsm.server;

import static org.assertj.core.api.Assertions.fail;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xsm.server.ChildProcess.Result;

/**
 * Xen Orchestra's "new VM" through its connector, the npm package {@code xen-api}, unmodified:
 * {@code src/test/clients/xo_vm_test.mjs} clones and provisions a stock template, adds a VIF with
 * an empty MAC, starts, reboots and stops the VM while checking what XO's objects collection shows
 * (allowed and current operations, guest metrics with an address, the console), then removes it.
 * Missing prerequisites fail the test, saying what to install.
 */
@QuarkusTest
class XoVmTest {
  private static final Path CLIENTS = Path.of("src/test/clients");
  private static final long TIMEOUT_SECONDS = 180;

  @TestHTTPResource("/")
  URL url;

  @Test
  void xenOrchestraMakesAndRunsAVmFromATemplate() throws Exception {
    if (!Files.isRegularFile(CLIENTS.resolve("node_modules/xen-api/package.json"))) {
      fail(
          "the npm package xen-api is not installed: run 'npm ci' in "
              + CLIENTS
              + " (or .ci/test)");
    }
    String host = "localhost".equals(url.getHost()) ? "127.0.0.1" : url.getHost();
    String base = "http://" + host + ":" + url.getPort();
    Result r;
    try {
      r =
          ChildProcess.run(
              List.of(
                  "node",
                  CLIENTS.resolve("xo_vm_test.mjs").toString(),
                  base,
                  "root",
                  "xsm-test-root"),
              null,
              TIMEOUT_SECONDS);
    } catch (IOException e) {
      fail("node is not installed (" + e.getMessage() + "): apt-get install nodejs npm");
      return;
    }
    if (r.timedOut() || r.exit() != 0 || !r.output().contains("xo_vm_test: all checks passed")) {
      fail("xo_vm_test.mjs failed (exit " + r.exit() + "); its output:\n" + r.output());
    }
    System.out.println("xo_vm_test.mjs: all checks passed");
  }
}
