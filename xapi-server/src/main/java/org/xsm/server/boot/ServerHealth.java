package org.xsm.server.boot;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.xsm.server.db.Database;

/** Ready once the database is loaded and the pool exists (at /q/health/ready). */
@Readiness
@ApplicationScoped
public class ServerHealth implements HealthCheck {
  @Inject Database db;

  @Override
  public HealthCheckResponse call() {
    int pools = db.all(org.xsm.server.model.Pool.CLASS).size();
    int srs = db.all(org.xsm.server.model.Sr.CLASS).size();
    return HealthCheckResponse.named("xapi")
        .status(pools == 1)
        .withData("pools", pools)
        .withData("SRs", srs)
        .build();
  }
}
