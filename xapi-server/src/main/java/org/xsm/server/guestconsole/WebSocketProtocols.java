package org.xsm.server.guestconsole;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The WebSocket subprotocol {@code /console} accepts besides none: {@code binary}, which noVNC
 * before 1.0 and websockify-style clients ask for (a browser drops a connection whose answer names
 * no protocol it asked for). noVNC 1.x asks for none. Applied to Quarkus's HTTP listener here and
 * to the HTTPS one by {@code tls/HttpsServer}.
 */
@ApplicationScoped
public class WebSocketProtocols implements HttpServerOptionsCustomizer {
  /** The subprotocols offered on every listener. */
  public static final String BINARY = "binary";

  @Override
  public void customizeHttpServer(HttpServerOptions options) {
    options.addWebSocketSubProtocol(BINARY);
  }
}
