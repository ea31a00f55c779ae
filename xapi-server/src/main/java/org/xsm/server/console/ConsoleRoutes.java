package org.xsm.server.console;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Sends a browser that opens the server's address, or {@code /console} without the slash, to the
 * console. Only GET: POST on {@code /} stays XML-RPC.
 */
@ApplicationScoped
public class ConsoleRoutes {
  void init(@Observes Router router) {
    // A regular expression: a plain "/console" route would also match "/console/" and loop.
    router
        .getWithRegex("/(console)?")
        .handler(rc -> rc.response().setStatusCode(302).putHeader("Location", "/console/").end());
  }
}
