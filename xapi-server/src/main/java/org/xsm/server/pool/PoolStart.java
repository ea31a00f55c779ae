package org.xsm.server.pool;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;

/**
 * The server's start, by its pool role: a master (a lone host is one) loads its records and starts
 * ({@code boot.Bootstrap}), then checks its members' heartbeats; a member loads nothing, writes
 * nothing, and beats to its master.
 */
@ApplicationScoped
public class PoolStart {
  private static final Logger LOG = Logger.getLogger(PoolStart.class);

  @Inject PoolState state;
  @Inject Database db;
  @Inject Heartbeats heartbeats;
  @Inject org.xsm.server.boot.Bootstrap bootstrap;

  void onStart(@Observes StartupEvent ev) throws Exception {
    PoolRole r = state.role();
    if (r.member()) {
      db.setPersistent(false);
      heartbeats.startAsMember();
      LOG.infof(
          "xsm XenAPI server ready; a member of the pool whose master is %s", r.masterAddress());
      return;
    }
    bootstrap.start();
    heartbeats.startAsMaster();
  }
}
