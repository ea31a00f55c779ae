package org.xsm.server;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Xen Orchestra's "new VM" through its connector, the npm package {@code xen-api}, unmodified:
 * {@code src/test/clients/xo_vm_test.mjs} clones and provisions a stock template, adds a VIF with
 * an empty MAC, starts, reboots and stops the VM while checking what XO's objects collection shows
 * (allowed and current operations, guest metrics with an address, the console), then removes it.
 * Missing prerequisites fail the test, saying what to install.
 */
@QuarkusTest
class XoVmTest {
  @TestHTTPResource("/")
  URL url;

  @Test
  void xenOrchestraMakesAndRunsAVmFromATemplate() throws Exception {
    NodeClients.run(url, "xo_vm_test.mjs", List.of("xen-api"));
  }
}
