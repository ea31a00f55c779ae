package org.xsm.server.tls;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SSLOptions;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * XenAPI over HTTPS: a second listener on the same router as the plain HTTP one, so every route
 * (XML-RPC, JSON-RPC, the HTTP handlers, the REST API and the console) is served on both, with the
 * host certificate. {@code XSM_HTTPS_PORT} (default 8443; 0 picks a free port; -1 turns it off) and
 * {@code XSM_HTTPS_BIND} (default all interfaces). Plain HTTP listens on loopback only unless
 * {@code XSM_HTTP_BIND} widens it, which is logged as a warning. A new certificate ({@code
 * host.install_server_certificate}) is served to new connections at once.
 */
@ApplicationScoped
public class HttpsServer {
  private static final Logger LOG = Logger.getLogger(HttpsServer.class);

  @Inject Vertx vertx;
  @Inject HostCertificate certificate;

  @ConfigProperty(name = "xsm.https-port", defaultValue = "8443")
  int port;

  @ConfigProperty(name = "xsm.https-bind", defaultValue = "0.0.0.0")
  String bind;

  @ConfigProperty(name = "quarkus.http.host", defaultValue = "127.0.0.1")
  String httpHost;

  private volatile Router router;
  private volatile HttpServer server;

  void routes(@Observes Router r) {
    router = r;
  }

  void start(@Observes StartupEvent ev) throws Exception {
    warnIfPlainHttpIsReachable();
    if (port < 0) {
      LOG.info("HTTPS is off (xsm.https-port < 0)");
      return;
    }
    HostCertificate.Identity id = certificate.identity();
    HttpServerOptions o =
        new HttpServerOptions()
            .setSsl(true)
            .setKeyCertOptions(keyCert(id))
            .setUseAlpn(false)
            .setPort(port)
            .setHost(bind)
            .setCompressionSupported(false)
            // As on the plain listener (guestconsole/WebSocketProtocols): /console's WebSocket.
            .addWebSocketSubProtocol("binary");
    TlsTuning.apply(o);
    HttpServer s =
        vertx.createHttpServer(o).requestHandler(router).connectionHandler(TlsTuning::onConnection);
    server = s.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    certificate.onChange(this::reload);
    LOG.infof(
        "XenAPI over HTTPS on %s:%d (certificate for %s, %s)",
        bind, server.actualPort(), id.subject(), certificate.certFile().toAbsolutePath());
  }

  private static PemKeyCertOptions keyCert(HostCertificate.Identity id) {
    return new PemKeyCertOptions()
        .setKeyValue(Buffer.buffer(id.keyPem()))
        .setCertValue(Buffer.buffer(id.certPem()));
  }

  private void reload() {
    HttpServer s = server;
    if (s == null) {
      return;
    }
    s.updateSSLOptions(new SSLOptions().setKeyCertOptions(keyCert(certificate.identity())))
        .onFailure(e -> LOG.errorf(e, "the new host certificate could not be loaded into HTTPS"));
  }

  private void warnIfPlainHttpIsReachable() {
    try {
      InetAddress a = InetAddress.getByName(httpHost);
      if (!a.isLoopbackAddress()) {
        LOG.warnf(
            "Plain HTTP listens on %s: passwords and session references cross the network in clear"
                + " text; use HTTPS (port %d) or leave XSM_HTTP_BIND unset (loopback only)",
            httpHost, port);
      }
    } catch (java.io.IOException e) {
      LOG.warnf("Plain HTTP bind address %s does not resolve: %s", httpHost, e.getMessage());
    }
  }

  /**
   * The port clients reach HTTPS on: the one listened on, or the configured one before the listener
   * is up; -1 when off.
   */
  public int publicPort() {
    HttpServer s = server;
    return s != null ? s.actualPort() : port > 0 ? port : -1;
  }

  /** The port HTTPS listens on (a free one when configured 0), or -1 when off. */
  public int actualPort() {
    HttpServer s = server;
    return s == null ? -1 : s.actualPort();
  }

  void stop(@Observes ShutdownEvent ev) {
    HttpServer s = server;
    if (s != null) {
      s.close();
    }
  }
}
