package org.xsm.server.pool;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.xsm.server.domain.Domains;
import org.xsm.server.domain.HostDomains;

/** The domains of another host of the pool: {@link RemoteDomains} through that host's agent. */
@ApplicationScoped
public class PoolDomains implements HostDomains {
  @Inject PoolPeers peers;

  @Override
  public Domains on(String address) {
    return new RemoteDomains(peers, address);
  }
}
