package org.xsm.server.guestconsole;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Console;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xsm.server.SdkTest;
import org.xsm.server.model.ConsoleProtocol;
import org.xsm.server.model.Ref;
import org.xsm.server.tls.HostCertificate;
import org.xsm.server.tls.HttpsServer;

/**
 * A running VM's consoles through {@code /console}, against a real QEMU registered through a
 * test-only {@link ConsoleEndpoints}: the RFB handshake and a framebuffer update through HTTP
 * CONNECT over HTTPS (as XenCenter and Xen Orchestra) and through a WebSocket (as noVNC), a text
 * console through CONNECT with the session in a cookie, and the refusals (bad session, unknown
 * reference, read-only role, halted VM). Skipped, saying why, where QEMU is not installed.
 */
@QuarkusTest
class GuestConsoleTest extends SdkTest {
  @Inject TestConsoleEndpoints endpoints;
  @Inject HttpsServer https;
  @Inject HostCertificate certificate;

  private QemuDisplay qemu;
  private VM vm;
  private Console rfb;
  private Console vt100;

  @BeforeEach
  void runningVmOnQemu() throws Exception {
    Assumptions.assumeTrue(QemuDisplay.missing() == null, QemuDisplay.missing());
    qemu = QemuDisplay.start();
    vm = newVm("console test", 1, 256L * 1024 * 1024);
    Ref<org.xsm.server.model.Vm> ref = Ref.of(vm.toWireString());
    endpoints.register(ref, ConsoleProtocol.RFB, ConsoleEndpoint.unixSocket(qemu.vncSocket()));
    endpoints.register(
        ref, ConsoleProtocol.VT100, ConsoleEndpoint.unixSocket(qemu.monitorSocket()));
    vm.start(c, false, false);
    for (Console con : vm.getConsoles(c)) {
      if (con.getProtocol(c) == Types.ConsoleProtocol.RFB) {
        rfb = con;
      } else if (con.getProtocol(c) == Types.ConsoleProtocol.VT100) {
        vt100 = con;
      }
    }
  }

  @AfterEach
  void stop() throws Exception {
    if (vm != null) {
      if (vm.getPowerState(c) == Types.VmPowerState.RUNNING) {
        vm.hardShutdown(c);
      }
      endpoints.forget(Ref.of(vm.toWireString()));
      vm.destroy(c);
    }
    if (qemu != null) {
      qemu.close();
    }
  }

  @Test
  void consoleRecordsSayWhereToConnect() throws Exception {
    assertThat(rfb).isNotNull();
    assertThat(vt100).isNotNull();
    assertThat(rfb.getLocation(c))
        .startsWith("https://")
        .endsWith(":" + https.actualPort() + "/console?ref=" + rfb.toWireString());
    assertThat(vt100.getLocation(c)).endsWith("/console?ref=" + vt100.toWireString());
  }

  @Test
  void rfbThroughHttpConnectOverHttps() throws Exception {
    try (Tunnel t = connect(true, "ref=" + rfb.toWireString() + "&" + session(), null)) {
      assertThat(t.status).isEqualTo("HTTP/1.1 200 OK");
      RfbClient client = new RfbClient(t.in, t.out);
      RfbClient.ServerInit init = client.handshake();
      assertThat(client.banner()).startsWith("RFB 003.00");
      assertThat(init.width()).isPositive();
      assertThat(init.height()).isPositive();
      RfbClient.Rect r = client.firstUpdate();
      assertThat((long) r.width() * r.height()).isPositive();
    }
  }

  /**
   * XenCenter's request (its SDK's {@code HTTP.CONNECT}): HTTP/1.0, the location's path and query,
   * the session in a cookie; it reads the status code only. The answer is in the request's version.
   */
  @Test
  void rfbAsXenCenterAsksForIt() throws Exception {
    String cookie = c.getSessionReference();
    try (Tunnel t = connect(true, "ref=" + rfb.toWireString(), cookie, "HTTP/1.0")) {
      assertThat(t.status.split(" ")[1]).isEqualTo("200");
      assertThat(new RfbClient(t.in, t.out).handshake().width()).isPositive();
    }
  }

  @Test
  void theClientSeesTheEndWhenTheDomainGoes() throws Exception {
    try (Tunnel t = connect(true, "ref=" + rfb.toWireString() + "&" + session(), null)) {
      new RfbClient(t.in, t.out).handshake();
      qemu.close();
      qemu = null;
      // Whatever QEMU sent before it went may still come; then the stream ends.
      byte[] buf = new byte[8192];
      while (t.in.read(buf) >= 0) {
        // drain
      }
    }
  }

  @Test
  void aVmReferenceMeansItsRfbConsole() throws Exception {
    try (Tunnel t = connect(false, "ref=" + vm.toWireString() + "&" + session(), null)) {
      assertThat(t.status).isEqualTo("HTTP/1.1 200 OK");
      assertThat(new RfbClient(t.in, t.out).handshake().width()).isPositive();
    }
  }

  @Test
  void rfbThroughWebSocket() throws Exception {
    WebSocketStreams s = new WebSocketStreams();
    String u = "wss://localhost:" + https.actualPort() + "/console?";
    WebSocket ws = webSocket(u + "ref=" + rfb.toWireString() + "&" + session(), s, null);
    try {
      RfbClient client = new RfbClient(s.in, s.out);
      RfbClient.ServerInit init = client.handshake();
      assertThat(init.width()).isPositive();
      RfbClient.Rect r = client.firstUpdate();
      assertThat((long) r.width() * r.height()).isPositive();
    } finally {
      ws.abort();
    }
  }

  @Test
  void theBinarySubprotocolOnThePlainListener() throws Exception {
    WebSocketStreams s = new WebSocketStreams();
    String u = "ws://127.0.0.1:" + url.getPort() + "/console?";
    WebSocket ws = webSocket(u + "ref=" + rfb.toWireString() + "&" + session(), s, "binary");
    try {
      assertThat(ws.getSubprotocol()).isEqualTo("binary");
      assertThat(new RfbClient(s.in, s.out).handshake().height()).isPositive();
    } finally {
      ws.abort();
    }
  }

  private WebSocket webSocket(String uri, WebSocketStreams s, String subprotocol) throws Exception {
    WebSocket.Builder b = wsClient().newWebSocketBuilder();
    if (subprotocol != null) {
      b.subprotocols(subprotocol);
    }
    return b.buildAsync(URI.create(uri), s).get(30, TimeUnit.SECONDS);
  }

  @Test
  void textConsoleThroughConnectWithTheSessionInACookie() throws Exception {
    try (Tunnel t =
        connect(false, "ref=" + vt100.toWireString(), c.getSessionReference().toString())) {
      assertThat(t.status).isEqualTo("HTTP/1.1 200 OK");
      assertThat(readUntil(t.in, "(qemu)")).contains("QEMU");
      t.out.write("info version\n".getBytes(StandardCharsets.US_ASCII));
      t.out.flush();
      assertThat(readUntil(t.in, "(qemu)")).containsPattern("\\d+\\.\\d+\\.\\d+");
    }
  }

  @Test
  void refusals() throws Exception {
    String ref = "ref=" + rfb.toWireString();
    assertThat(refusal(ref + "&session_id=OpaqueRef:nonsense")).startsWith("HTTP/1.1 401");
    assertThat(refusal(ref)).startsWith("HTTP/1.1 401");
    assertThat(refusal("ref=OpaqueRef:no-such-console&" + session())).startsWith("HTTP/1.1 404");
    assertThat(refusal(session())).startsWith("HTTP/1.1 400");
    Connection auditor = new Connection(url);
    Session.loginWithPassword(auditor, "auditor", "auditor-pw", "2.21");
    try {
      String readOnly = ref + "&session_id=" + auditor.getSessionReference();
      assertThat(refusal(readOnly)).startsWith("HTTP/1.1 403");
    } finally {
      Session.logout(auditor);
    }
    assertThat(webSocketRefusal(ref + "&session_id=OpaqueRef:nonsense")).isEqualTo(401);

    vm.hardShutdown(c);
    assertThat(vm.getConsoles(c)).isEmpty();
    assertThat(refusal(ref + "&" + session())).startsWith("HTTP/1.1 404");
  }

  private String session() {
    return "session_id=" + c.getSessionReference();
  }

  private String refusal(String query) throws Exception {
    try (Tunnel t = connect(true, query, null)) {
      return t.status;
    }
  }

  private int webSocketRefusal(String query) throws Exception {
    try {
      wsClient()
          .newWebSocketBuilder()
          .buildAsync(
              URI.create("wss://localhost:" + https.actualPort() + "/console?" + query),
              new WebSocketStreams())
          .join()
          .abort();
      return 101;
    } catch (CompletionException e) {
      return ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
    }
  }

  /** An open CONNECT tunnel: the status line, then the console's bytes. */
  private record Tunnel(Socket socket, String status, InputStream in, OutputStream out)
      implements AutoCloseable {
    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** {@code CONNECT /console?query} as Xen Orchestra sends it, over HTTPS or plain HTTP. */
  private Tunnel connect(boolean tls, String query, String cookie) throws Exception {
    return connect(tls, query, cookie, "HTTP/1.1");
  }

  private Tunnel connect(boolean tls, String query, String cookie, String version)
      throws Exception {
    Socket s;
    if (tls) {
      SSLSocket ssl =
          (SSLSocket) tlsContext().getSocketFactory().createSocket("localhost", https.actualPort());
      SSLParameters p = ssl.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      ssl.setSSLParameters(p);
      s = ssl;
    } else {
      s = new Socket("127.0.0.1", url.getPort());
    }
    s.setSoTimeout(30_000);
    String request =
        "CONNECT /console?"
            + query
            + " "
            + version
            + "\r\nHost: localhost\r\n"
            + (cookie == null ? "" : "Cookie: session_id=" + cookie + "\r\n")
            + "\r\n";
    OutputStream out = s.getOutputStream();
    out.write(request.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = s.getInputStream();
    String head = readUntil(in, "\r\n\r\n");
    return new Tunnel(s, head.substring(0, head.indexOf("\r\n")), in, out);
  }

  /** Reads byte by byte up to and including {@code end}, so nothing after it is consumed. */
  private static String readUntil(InputStream in, String end) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (!b.toString(StandardCharsets.ISO_8859_1).endsWith(end)) {
      int x = in.read();
      if (x < 0) {
        throw new IOException("the stream ended before '" + end + "': " + b);
      }
      b.write(x);
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  private HttpClient wsClient() throws Exception {
    return HttpClient.newBuilder().sslContext(tlsContext()).build();
  }

  /** Trusts exactly the host certificate, as a client that was given its file. */
  private SSLContext tlsContext() throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry(
        "host",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(
                    certificate.identity().certPem().getBytes(StandardCharsets.US_ASCII))));
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }
}
