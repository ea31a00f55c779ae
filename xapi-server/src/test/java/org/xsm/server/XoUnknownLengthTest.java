package org.xsm.server;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Uploads of unknown length through Xen Orchestra's connector ({@code xen-api} 4.7.7, unmodified):
 * {@code src/test/clients/xo_unknown_length_test.mjs} sends a raw image and a VHD 20 times each as
 * XO sends a stream without a length (Content-Length 1 PiB, the socket destroyed after the last
 * byte), and checks that every task succeeded and every byte arrived (read back and compared).
 */
@QuarkusTest
class XoUnknownLengthTest {
  @TestHTTPResource("/")
  URL url;

  @Test
  void uploadsOfUnknownLengthArriveWholeEveryTime() throws Exception {
    NodeClients.run(url, "xo_unknown_length_test.mjs", List.of("xen-api"), "20");
  }
}
