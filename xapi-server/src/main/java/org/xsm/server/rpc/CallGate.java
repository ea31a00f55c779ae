package org.xsm.server.rpc;

import org.xsm.server.model.XenApiException;

/**
 * A check every XenAPI call passes before its session is checked: a pool member refuses the calls
 * that only the master answers with {@code HOST_IS_SLAVE} and the master's address, which clients
 * follow (xapi's behaviour).
 */
public interface CallGate {
  /** Throws the error the call gets instead of being run here, or returns to let it run. */
  void admit(String method) throws XenApiException;
}
