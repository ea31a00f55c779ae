package org.xsm.server;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.util.List;
import org.junit.jupiter.api.Test;

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
  @TestHTTPResource("/")
  URL url;

  @Test
  void xenOrchestraBacksUpIncrementallyAndRestores() throws Exception {
    NodeClients.run(url, "xo_delta_test.mjs", List.of("xen-api", "vhd-lib"));
  }
}
