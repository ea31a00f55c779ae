package org.xsm.server.rpc;

/** A feature's XenAPI messages; every CDI bean implementing this is registered at startup. */
public interface RpcModule {
  void register(Dispatcher d);
}
