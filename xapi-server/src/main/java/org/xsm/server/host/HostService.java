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
  @Inject org.xsm.server.runtime.HostIdentity identity;

  /**
   * This host: the record whose UUID is this host's identity (in a pool the database holds every
   * member's), or the only host record of a lone host whose identity is not recorded yet; the null
   * reference before the first start has made it.
   */
  public Ref<Host> host() {
    java.util.Optional<String> uuid = identity.uuid();
    if (uuid.isPresent()) {
      java.util.List<Ref<Host>> mine = db.where(Host.UUID, uuid.get());
      if (!mine.isEmpty()) {
        return mine.get(0);
      }
    }
    return db.first(Host.CLASS);
  }

  /** Whether this host is the pool's master in the records (a lone host is its own). */
  public boolean isMaster() throws XenApiException {
    Ref<Pool> pool = pool();
    return pool.isNull() || db.get(pool, Pool.MASTER).equals(host());
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
