package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.xsm.server.tls.HostCertificate;
import org.xsm.server.tls.HttpsServer;

/**
 * Xen Orchestra's connector over HTTPS with certificate checks on: trusted from the host
 * certificate's file through NODE_EXTRA_CA_CERTS it connects, calls, runs a task and downloads;
 * without that file it refuses the server on the certificate.
 */
@QuarkusTest
class XoHttpsTest {
  private static final Path SCRIPT = Path.of("src/test/clients/xo_https_test.mjs");

  @Inject HttpsServer https;
  @Inject HostCertificate certificate;

  private ChildProcess.Result run(String mode, Map<String, String> env) throws Exception {
    assertThat(Path.of("src/test/clients/node_modules/xen-api/package.json"))
        .as("the npm package xen-api: run 'npm ci' in xapi-server/src/test/clients (or .ci/test)")
        .isRegularFile();
    certificate.identity();
    String url = "https://localhost:" + https.actualPort();
    return ChildProcess.run(
        List.of("node", SCRIPT.toString(), url, "root", "xsm-test-root", mode), null, env, 180);
  }

  @Test
  void trustedFromTheCertificateFile() throws Exception {
    assertThat(Files.isRegularFile(certificate.certFile())).isTrue();
    ChildProcess.Result r =
        run(
            "trusted",
            Map.of("NODE_EXTRA_CA_CERTS", certificate.certFile().toAbsolutePath().toString()));
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("xo_https_test: all checks passed");
  }

  @Test
  void refusedWithoutIt() throws Exception {
    ChildProcess.Result r = run("untrusted", Map.of());
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("an untrusted certificate is refused");
  }
}
