package org.xsm.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.Session;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/**
 * XenAPI over HTTPS with the host certificate, which clients trust from its file (not by turning
 * checks off): the Java SDK, curl and XenAPI.py; and a certificate installed at run time is served
 * at once.
 */
@QuarkusTest
class HttpsTest {
  @Inject HttpsServer https;
  @Inject HostCertificate certificate;

  /** A TLS context that trusts exactly the certificates in {@code pem}. */
  static SSLContext trusting(String pem) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    int i = 0;
    for (var cert :
        CertificateFactory.getInstance("X.509")
            .generateCertificates(
                new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
      ks.setCertificateEntry("c" + i++, cert);
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  private String url() {
    return "https://localhost:" + https.actualPort() + "/";
  }

  private static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return p.exitValue() + ":" + out;
  }

  @Test
  void theKeyIsPrivateAndTheCertificateNamesThisHost() throws Exception {
    certificate.identity();
    assertThat(Files.getPosixFilePermissions(certificate.keyFile()))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    X509Certificate c;
    try (InputStream in = Files.newInputStream(certificate.certFile())) {
      c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    assertThat(c.getSubjectAlternativeNames())
        .anySatisfy(n -> assertThat(n.get(1)).isEqualTo("localhost"))
        .anySatisfy(n -> assertThat(n.get(1)).isEqualTo("127.0.0.1"));
  }

  @Test
  void theJavaSdkTalksHttpsTrustingTheCertificateFile() throws Exception {
    SSLContext ctx = trusting(Files.readString(certificate.certFile()));
    var before = HttpsURLConnection.getDefaultSSLSocketFactory();
    HttpsURLConnection.setDefaultSSLSocketFactory(ctx.getSocketFactory());
    try {
      Connection c = new Connection(new URL(url()));
      Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
      Host h = Host.getAll(c).iterator().next();
      assertThat(h.getServerCertificate(c)).isEqualTo(certificate.identity().certPem());
      Session.logout(c);
    } finally {
      HttpsURLConnection.setDefaultSSLSocketFactory(before);
    }
    // Without trusting it, the SDK refuses the server (checks are on).
    Connection untrusted = new Connection(new URL(url()));
    assertThatThrownBy(() -> Session.loginWithPassword(untrusted, "root", "xsm-test-root", "2.21"))
        .hasStackTraceContaining("PKIX");
  }

  @Test
  void curlAndXenApiPyTrustTheCertificateFile() throws Exception {
    String body =
        "<?xml version=\"1.0\"?><methodCall><methodName>session.login_with_password</methodName>"
            + "<params><param><value>root</value></param><param><value>xsm-test-root</value>"
            + "</param></params></methodCall>";
    String ca = certificate.certFile().toAbsolutePath().toString();
    String out =
        run(
            List.of(
                "curl", "-sS", "--cacert", ca, "-H", "Content-Type: text/xml", "-d", body, url()));
    assertThat(out).startsWith("0:").contains("Success").contains("OpaqueRef:");
    assertThat(run(List.of("curl", "-sS", "-d", body, url())))
        .as("curl refuses an untrusted certificate")
        .doesNotStartWith("0:");
    String py =
        "import sys\nfrom os_xenapi.client import XenAPI\n"
            + "s = XenAPI.Session(sys.argv[1])\n"
            + "s.xenapi.login_with_password('root', 'xsm-test-root', '2.21', 'xsm-test')\n"
            + "print(len(s.xenapi.VM.get_all()) > 0)\n"
            + "s.xenapi.session.logout()\n";
    ProcessBuilder pb =
        new ProcessBuilder("/usr/bin/python3", "-c", py, url()).redirectErrorStream(true);
    pb.environment().put("SSL_CERT_FILE", ca);
    Process p = pb.start();
    String pyOut = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(pyOut).isZero();
    assertThat(pyOut).contains("True");
  }

  @Test
  void anInstalledCertificateIsServedAtOnceAndBadPairsAreRefused() throws Exception {
    CertificateMaker.Made m = CertificateMaker.selfSigned();
    CertificateMaker.Made other = CertificateMaker.selfSigned();
    assertThatThrownBy(() -> certificate.install(m.certPem(), other.keyPem(), ""))
        .hasMessageContaining("SERVER_CERTIFICATE_KEY_MISMATCH");
    assertThatThrownBy(() -> certificate.install("garbage", m.keyPem(), ""))
        .hasMessageContaining("SERVER_CERTIFICATE_INVALID");
    certificate.install(m.certPem(), m.keyPem(), "");
    assertThat(Files.readString(certificate.certFile()))
        .isEqualTo(certificate.identity().certPem());
    // A new connection sees the new certificate.
    SSLContext ctx = trusting(m.certPem());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    X509Certificate served;
    do {
      try (SSLSocket s =
          (SSLSocket) ctx.getSocketFactory().createSocket("localhost", https.actualPort())) {
        s.startHandshake();
        served = (X509Certificate) s.getSession().getPeerCertificates()[0];
      } catch (javax.net.ssl.SSLHandshakeException e) {
        served = null; // the old certificate, not trusted by this context: not switched yet
      }
    } while (served == null && System.nanoTime() < deadline);
    assertThat(served).isNotNull();
    assertThat(HostCertificate.subjectName(served)).isEqualTo(m.subject());
  }
}
