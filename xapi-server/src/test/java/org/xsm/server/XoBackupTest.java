package org.xsm.server;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.util.List;
import org.junit.jupiter.api.Test;

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
  @TestHTTPResource("/")
  URL url;

  @Test
  void xenOrchestraBacksUpThroughNbdAndCbtAndReplicatesOntoAClone() throws Exception {
    NodeClients.run(url, "xo_backup_test.mjs", List.of("xen-api"));
  }
}
