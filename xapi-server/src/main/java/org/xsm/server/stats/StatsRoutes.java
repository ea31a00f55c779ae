package org.xsm.server.stats;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.Ref;
import org.xsm.server.model.XenApiException;
import org.xsm.server.session.Sessions;

/**
 * xapi's statistics handler {@code GET /rrd_updates?session_id=&start=<epoch s>[&interval=<s>]
 * [&cf=AVERAGE|MIN|MAX][&host=true][&vm_uuid=<uuid>][&sr_uuid=<uuid>][&json=true]}: every running
 * VM (or only {@code vm_uuid}, running or not while its archives last), the host's data sources
 * with {@code host=true}, an SR's with {@code sr_uuid}. Xen Orchestra asks for the host with {@code
 * json=true} every few seconds. Failures: 401 bad session, 400 bad parameter.
 */
@ApplicationScoped
public class StatsRoutes {
  @Inject Sampler sampler;
  @Inject Database db;
  @Inject org.xsm.server.host.HostService hostService;
  @Inject Sessions sessions;

  @jakarta.inject.Inject org.xsm.server.rbac.Rbac rbac;

  void init(@Observes Router router) {
    router.get("/rrd_updates").order(-10).blockingHandler(this::rrdUpdates, false);
  }

  private void rrdUpdates(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    try {
      rbac.checkHttp(
          sessions.validate(String.valueOf(req.getParam("session_id"))), "get_rrd_updates");
    } catch (XenApiException e) {
      answer(rc, 401, "text/plain", e.code() + ": session_id is missing or invalid");
      return;
    }
    long start;
    long interval;
    Archive.Cf cf;
    try {
      start = Long.parseLong(req.getParam("start", "0").trim());
      interval = Long.parseLong(req.getParam("interval", "0").trim());
      cf = Archive.Cf.valueOf(req.getParam("cf", "AVERAGE").trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      answer(rc, 400, "text/plain", "bad start, interval or cf: " + e.getMessage());
      return;
    }
    long now = System.currentTimeMillis() / 1000;
    Archive.Step step = RrdUpdates.chooseStep(start, now, interval);
    List<RrdUpdates.Column> columns = new ArrayList<>();
    String vmUuid = req.getParam("vm_uuid");
    for (String object : sampler.objects()) {
      String[] ku = object.split(":", 2);
      if (ku[0].equals("vm") && (vmUuid == null ? sampler.running(ku[1]) : vmUuid.equals(ku[1]))) {
        columns.addAll(RrdUpdates.columns("vm", ku[1], sampler.archivesOf("vm", ku[1])));
      }
    }
    if ("true".equalsIgnoreCase(req.getParam("host"))) {
      Ref<Host> host = hostService.host();
      String uuid = host.isNull() ? null : uuid(host);
      if (uuid != null) {
        columns.addAll(RrdUpdates.columns("host", uuid, sampler.archivesOf("host", uuid)));
      }
    }
    String srUuid = req.getParam("sr_uuid");
    if (srUuid != null) {
      columns.addAll(RrdUpdates.columns("sr", srUuid, sampler.archivesOf("sr", srUuid)));
    }
    RrdUpdates u = RrdUpdates.of(step, cf, start, sampler.lastSampleSeconds(), columns);
    if ("true".equalsIgnoreCase(req.getParam("json"))) {
      answer(rc, 200, "application/json", u.json());
    } else {
      answer(rc, 200, "text/xml", u.xml());
    }
  }

  private String uuid(Ref<Host> host) {
    try {
      return db.get(host, Host.UUID);
    } catch (XenApiException e) {
      return null;
    }
  }

  private static void answer(RoutingContext rc, int status, String type, String body) {
    rc.response().setStatusCode(status).putHeader("Content-Type", type).end(body);
  }
}
