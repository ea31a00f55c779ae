package org.xsm.nfs.rpc;

/** An ONC RPC call that got no reply within its timeout and all its retransmissions. */
public final class RpcTimeoutException extends RpcException {
  public RpcTimeoutException(String message) {
    super(message);
  }
}
