package org.xsm.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.KeyStore;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link TlsStreams} as the server side of a JDK {@code SSLSocket} client: data both ways in writes
 * of every size (1 byte to several records), TLS 1.3 key updates asked by the client in the middle
 * of the stream (the server must answer them while it sends), the orderly close both ways, and a
 * client that does not trust the certificate.
 */
class TlsStreamsTest {
  private static HostCertificate.Identity id;
  private static SSLContext trusting;
  private static ServerSocket listener;

  @BeforeAll
  static void certificate() throws Exception {
    CertificateMaker.Made m = CertificateMaker.selfSigned();
    id = HostCertificate.fromPem(m.keyPem(), m.certPem());
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("host", id.chain().get(0));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(ks);
    trusting = SSLContext.getInstance("TLSv1.3");
    trusting.init(null, tmf.getTrustManagers(), null);
    listener = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
  }

  @AfterAll
  static void close() throws Exception {
    listener.close();
  }

  /** Accepts one connection and echoes length-prefixed chunks until a zero length; then closes. */
  private static CompletableFuture<Long> echoServer() {
    return CompletableFuture.supplyAsync(
        () -> {
          try (Socket s = listener.accept()) {
            SSLEngine engine = id.sslContext().createSSLEngine();
            engine.setUseClientMode(false);
            TlsStreams tls = TlsStreams.handshake(engine, s.getInputStream(), s.getOutputStream());
            DataInputStream in = new DataInputStream(tls.input());
            DataOutputStream out = new DataOutputStream(tls.output());
            long echoed = 0;
            while (true) {
              int n = in.readInt();
              out.writeInt(n);
              if (n == 0) {
                out.flush();
                break;
              }
              byte[] b = new byte[n];
              in.readFully(b);
              out.write(b);
              out.flush();
              echoed += n;
            }
            tls.closeOutput();
            assertThat(in.read()).as("end of stream after the client's close_notify").isEqualTo(-1);
            return echoed;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  @Test
  void everyWriteSizeBothWaysWithKeyUpdatesOnTheWay() throws Exception {
    CompletableFuture<Long> server = echoServer();
    Random r = new Random(42);
    long sent = 0;
    CRC32C mine = new CRC32C();
    CRC32C theirs = new CRC32C();
    try (SSLSocket c =
        (SSLSocket)
            trusting
                .getSocketFactory()
                .createSocket(listener.getInetAddress(), listener.getLocalPort())) {
      c.startHandshake();
      assertThat(c.getSession().getProtocol()).isEqualTo("TLSv1.3");
      DataOutputStream out = new DataOutputStream(c.getOutputStream());
      DataInputStream in = new DataInputStream(c.getInputStream());
      int[] sizes = {1, 2, 15, 16, 17, 16_383, 16_384, 16_385, 65_536, 262_144, 262_172, 1_000_003};
      for (int round = 0; round < 40; round++) {
        int n = round < sizes.length ? sizes[round] : 1 + r.nextInt(300_000);
        byte[] b = new byte[n];
        r.nextBytes(b);
        mine.update(b);
        out.writeInt(n);
        out.write(b);
        out.flush();
        if (round % 7 == 3) {
          c.startHandshake(); // on a TLS 1.3 session: a KeyUpdate asking the server for one too
        }
        assertThat(in.readInt()).isEqualTo(n);
        byte[] back = new byte[n];
        in.readFully(back);
        theirs.update(back);
        sent += n;
      }
      out.writeInt(0);
      out.flush();
      assertThat(in.readInt()).isZero();
      assertThat(in.read()).as("the server's close_notify ends the stream").isEqualTo(-1);
      c.shutdownOutput(); // our close_notify
    }
    assertThat(server.get(60, TimeUnit.SECONDS)).isEqualTo(sent);
    assertThat(theirs.getValue()).isEqualTo(mine.getValue());
  }

  @Test
  void aClientThatDoesNotTrustTheCertificateEndsTheHandshake() throws Exception {
    CompletableFuture<Throwable> server =
        CompletableFuture.supplyAsync(
            () -> {
              try (Socket s = listener.accept()) {
                SSLEngine engine = id.sslContext().createSSLEngine();
                engine.setUseClientMode(false);
                TlsStreams.handshake(engine, s.getInputStream(), s.getOutputStream());
                return null;
              } catch (Exception e) {
                return e;
              }
            });
    SSLContext plainJdk = SSLContext.getInstance("TLSv1.3");
    plainJdk.init(null, null, null); // the JDK's CAs only: our self-signed certificate is unknown
    try (SSLSocket c =
        (SSLSocket)
            plainJdk
                .getSocketFactory()
                .createSocket(listener.getInetAddress(), listener.getLocalPort())) {
      assertThatThrownBy(c::startHandshake).isInstanceOf(SSLException.class);
    }
    assertThat(server.get(30, TimeUnit.SECONDS))
        .as("the server's handshake ends with the client's alert or its close")
        .isInstanceOfAny(SSLException.class, EOFException.class);
  }

  @Test
  void aPeerThatClosesMidStreamIsTheEndOfTheInput() throws Exception {
    CompletableFuture<Integer> server =
        CompletableFuture.supplyAsync(
            () -> {
              try (Socket s = listener.accept()) {
                SSLEngine engine = id.sslContext().createSSLEngine();
                engine.setUseClientMode(false);
                TlsStreams tls =
                    TlsStreams.handshake(engine, s.getInputStream(), s.getOutputStream());
                InputStream in = tls.input();
                int total = 0;
                byte[] b = new byte[8192];
                for (int n; (n = in.read(b)) >= 0; ) {
                  total += n;
                }
                return total;
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    try (SSLSocket c =
        (SSLSocket)
            trusting
                .getSocketFactory()
                .createSocket(listener.getInetAddress(), listener.getLocalPort())) {
      OutputStream out = c.getOutputStream();
      out.write(new byte[100_000]);
      out.flush();
    } // closed: close_notify then FIN
    assertThat(server.get(30, TimeUnit.SECONDS)).isEqualTo(100_000);
  }
}
