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
 * Xen Orchestra's delta backup through NBD and CBT, and its replication, with its connector {@code
 * xen-api} unmodified: {@code src/test/clients/xo_backup_test.mjs} enables CBT, snapshots, writes
 * through NBD, snapshots again, checks {@code VDI.list_changed_blocks} against the blocks written,
 * reads exactly those blocks of the snapshot over NBD with TLS (the certificate and subject of
 * {@code VDI.get_nbd_info}; plain clients and a wrong subject refused), exports the delta with
 * {@code base=}, replicates (a full import, then the delta PUT onto a clone of that replica: equal
 * to the source byte for byte), {@code VDI.data_destroy}s the older snapshot and runs a second
 * cycle from its tracking. Missing prerequisites fail the test, saying what to install.
 */
@QuarkusTest
class XoBackupTest {
  private static final Path CLIENTS = Path.of("src/test/clients");
  private static final long TIMEOUT_SECONDS = 180;

  @TestHTTPResource("/")
  URL url;

  @Test
  void xenOrchestraBacksUpThroughNbdAndCbtAndReplicatesOntoAClone() throws Exception {
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
                  CLIENTS.resolve("xo_backup_test.mjs").toString(),
                  base,
                  "root",
                  "xsm-test-root"),
              null,
              TIMEOUT_SECONDS);
    } catch (IOException e) {
      fail("node is not installed (" + e.getMessage() + "): apt-get install nodejs npm");
      return;
    }
    if (r.timedOut()
        || r.exit() != 0
        || !r.output().contains("xo_backup_test: all checks passed")) {
      fail("xo_backup_test.mjs failed (exit " + r.exit() + "); its output:\n" + r.output());
    }
    System.out.println("xo_backup_test.mjs: all checks passed");
  }
}
