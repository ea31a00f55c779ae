package org.xsm.server.host;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.Pool;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.XenApiException;

/** This host and its pool: the records every feature refers to. */
@ApplicationScoped
public class HostService {
  @Inject Database db;

  /** This host (the only one until pools of several hosts exist), or the null reference. */
  public Ref<Host> host() {
    return db.first(Host.CLASS);
  }

  /** The pool, or the null reference before the first start has made it. */
  public Ref<Pool> pool() {
    return db.first(Pool.CLASS);
  }

  /** The pool's default SR (where suspend images go when a VM names none). */
  public Ref<Sr> defaultSr() throws XenApiException {
    return db.get(pool(), Pool.DEFAULT_SR);
  }
}
