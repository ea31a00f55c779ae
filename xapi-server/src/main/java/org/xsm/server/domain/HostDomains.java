package org.xsm.server.domain;

/**
 * The domains of another host of the pool, driven through that host's agent (implemented by the
 * pool feature). This host's own are the {@link Domains} bean.
 */
public interface HostDomains {
  /** The domains of the host at {@code address}. */
  Domains on(String address);
}
