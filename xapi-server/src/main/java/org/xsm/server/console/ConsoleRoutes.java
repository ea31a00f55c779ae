package org.xsm.server.console;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Sends a browser that opens the server's address, or {@code /console} without the slash, to the
 * console. Only GET: POST on {@code /} stays XML-RPC. The console's page, scripts and REST answers
 * carry a strict Content-Security-Policy (scripts and styles from this origin only, no inline
 * script, no framing) and {@code X-Frame-Options: DENY}; the page keeps the session reference in
 * session storage only (js/app.js).
 */
@ApplicationScoped
public class ConsoleRoutes {
  /** What the console may load: its own files, nothing inline, never framed. */
  static final String CSP =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
          + "frame-ancestors 'none'";

  void init(@Observes Router router) {
    router
        .routeWithRegex("/(console/.*|api/.*)")
        .order(-100)
        .handler(
            rc -> {
              rc.response()
                  .putHeader("Content-Security-Policy", CSP)
                  .putHeader("X-Frame-Options", "DENY")
                  .putHeader("X-Content-Type-Options", "nosniff")
                  .putHeader("Referrer-Policy", "no-referrer");
              rc.next();
            });
    // A regular expression: a plain "/console" route would also match "/console/" and loop.
    router
        .getWithRegex("/(console)?")
        .handler(rc -> rc.response().setStatusCode(302).putHeader("Location", "/console/").end());
  }
}
