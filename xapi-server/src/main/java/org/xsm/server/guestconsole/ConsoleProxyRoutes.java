package org.xsm.server.guestconsole;

import io.vertx.core.Context;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * xapi's console handlers on {@code /console}, on the HTTP and the HTTPS listener alike: {@code
 * CONNECT /console?ref=...&session_id=...} (XenCenter, Xen Orchestra) answers {@code 200} and then
 * carries the console's raw bytes both ways; {@code GET /console?...} with {@code Upgrade:
 * websocket} (browsers, noVNC) does the same with one binary WebSocket message per chunk. The
 * session is the {@code session_id} query parameter or cookie. A refusal is an HTTP status with one
 * line naming the reason (see {@link ConsoleDenied}); a plain GET goes on to the admin console's
 * redirect.
 */
@ApplicationScoped
public class ConsoleProxyRoutes {
  private static final Logger LOG = Logger.getLogger(ConsoleProxyRoutes.class);

  @Inject GuestConsoles consoles;

  private final ExecutorService workers =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "xapi-console");
            t.setDaemon(true);
            return t;
          });

  void init(@Observes Router router) {
    router.route(HttpMethod.CONNECT, "/console").order(-30).handler(rc -> accept(rc, false));
    router
        .get("/console")
        .order(-30)
        .handler(
            rc -> {
              if ("websocket".equalsIgnoreCase(rc.request().getHeader("Upgrade"))) {
                accept(rc, true);
              } else {
                rc.next();
              }
            });
  }

  private void accept(RoutingContext rc, boolean webSocket) {
    HttpServerRequest req = rc.request();
    // Paused, the request is not "read" when the checks end: it can still become a tunnel.
    req.pause();
    GuestConsoles.Request r =
        new GuestConsoles.Request(
            req.getParam("ref"),
            req.getParam("uuid"),
            sessionId(req),
            String.valueOf(req.remoteAddress()),
            webSocket);
    Context ctx = rc.vertx().getOrCreateContext();
    // The checks are quick, but connecting to the endpoint blocks: both off the event loop.
    workers.execute(
        () -> {
          try {
            GuestConsoles.Connection c = consoles.open(r);
            ctx.runOnContext(v -> tunnel(req, c, webSocket));
          } catch (ConsoleDenied e) {
            ctx.runOnContext(v -> refuse(rc, e));
          } catch (RuntimeException e) {
            LOG.errorf(e, "console request %s failed", r);
            ConsoleDenied d = new ConsoleDenied(500, "INTERNAL_ERROR", String.valueOf(e), e);
            ctx.runOnContext(v -> refuse(rc, d));
          }
        });
  }

  private static String sessionId(HttpServerRequest req) {
    String q = req.getParam("session_id");
    if (q != null) {
      return q;
    }
    Cookie c = req.getCookie("session_id");
    return c == null ? null : c.getValue();
  }

  private void tunnel(HttpServerRequest req, GuestConsoles.Connection c, boolean webSocket) {
    if (webSocket) {
      req.toWebSocket()
          .onSuccess(
              ws ->
                  ConsolePipe.start(
                      ws,
                      ws,
                      ws::writeBinaryMessage,
                      ws::close,
                      c.channel(),
                      workers,
                      c.toString()))
          .onFailure(e -> abandon(c, e));
    } else {
      req.toNetSocket()
          .onSuccess(
              s -> ConsolePipe.start(s, s, s::write, s::close, c.channel(), workers, c.toString()))
          .onFailure(e -> abandon(c, e));
    }
  }

  private static void abandon(GuestConsoles.Connection c, Throwable e) {
    LOG.warnf(e, "%s: the client's connection could not be taken over", c);
    SocketChannel ch = c.channel();
    try {
      ch.close();
    } catch (IOException x) {
      LOG.debugf(x, "%s: closing the console channel", c);
    }
  }

  private static void refuse(RoutingContext rc, ConsoleDenied e) {
    if (e.getCause() != null) {
      LOG.debugf(e, "console refused");
    }
    rc.response()
        .setStatusCode(e.status())
        .putHeader("Content-Type", "text/plain; charset=utf-8")
        .putHeader("Connection", "close")
        .end(e.code() + ": " + e.getMessage() + "\n");
  }
}
