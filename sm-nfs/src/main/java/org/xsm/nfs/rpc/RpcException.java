package org.xsm.nfs.rpc;

import java.io.IOException;

/** An ONC RPC call that the server refused or answered with an RPC-level error. */
public class RpcException extends IOException {
  public RpcException(String message) {
    super(message);
  }

  public RpcException(String message, Throwable cause) {
    super(message, cause);
  }
}
