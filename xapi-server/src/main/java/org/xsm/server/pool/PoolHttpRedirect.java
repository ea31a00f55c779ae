package org.xsm.server.pool;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.List;

/**
 * A member's HTTP handlers answer as xapi's do on a pool member: a redirect to the same path and
 * query on the master (same scheme and port), whose records the transfer needs. Clients (Xen
 * Orchestra's connector, XenAPI.py's callers) follow it as they follow {@code HOST_IS_SLAVE}. On a
 * master (a lone host is one) the request goes on to the handler.
 */
@ApplicationScoped
public class PoolHttpRedirect {
  /** The HTTP handlers that need the pool's records. */
  static final List<String> PATHS =
      List.of("/import_raw_vdi", "/export_raw_vdi", "/import", "/export", "/blob", "/rrd_updates");

  @Inject PoolState state;

  void init(@Observes Router router) {
    for (String path : PATHS) {
      router.route(path).order(-50).handler(this::redirectOnMember);
    }
  }

  private void redirectOnMember(RoutingContext rc) {
    PoolRole r = state.role();
    if (!r.member()) {
      rc.next();
      return;
    }
    String master = r.masterAddress();
    int colon = master.lastIndexOf(':');
    String host = colon > 0 && master.indexOf(':') == colon ? master.substring(0, colon) : master;
    String location =
        (rc.request().isSSL() ? "https" : "http")
            + "://"
            + host
            + ":"
            + rc.request().localAddress().port()
            + rc.request().uri();
    rc.response().setStatusCode(302).putHeader("Location", location).end();
  }
}
