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
 * Xen Orchestra's incremental backup and restore through its own npm packages, unmodified: {@code
 * src/test/clients/xo_delta_test.mjs} uploads through the connector {@code xen-api} (its empty-body
 * probe, streams of unknown length), exports a delta over a CBT snapshot, reads it with {@code
 * vhd-lib} as a differencing VHD naming its base, rebuilds the disk from the chain (qemu-img
 * compares), restores full + delta onto a new VDI, and imports VHDs vhd-lib made (dynamic, and
 * chained into a differencing disk). Missing prerequisites fail the test, saying what to install.
 */
@QuarkusTest
class XoDeltaTest {
  private static final Path CLIENTS = Path.of("src/test/clients");
  private static final long TIMEOUT_SECONDS = 180;

  @TestHTTPResource("/")
  URL url;

  @Test
  void xenOrchestraBacksUpIncrementallyAndRestores() throws Exception {
    if (!Files.isRegularFile(CLIENTS.resolve("node_modules/vhd-lib/package.json"))) {
      fail(
          "the npm packages xen-api and vhd-lib are not installed: run 'npm ci' in "
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
                  CLIENTS.resolve("xo_delta_test.mjs").toString(),
                  base,
                  "root",
                  "xsm-test-root"),
              null,
              TIMEOUT_SECONDS);
    } catch (IOException e) {
      fail("node is not installed (" + e.getMessage() + "): apt-get install nodejs npm");
      return;
    }
    if (r.timedOut() || r.exit() != 0 || !r.output().contains("xo_delta_test: all checks passed")) {
      fail("xo_delta_test.mjs failed (exit " + r.exit() + "); its output:\n" + r.output());
    }
    System.out.println("xo_delta_test.mjs: all checks passed");
  }
}
