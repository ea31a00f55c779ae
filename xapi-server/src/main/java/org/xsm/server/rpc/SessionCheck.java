package org.xsm.server.rpc;

import org.xsm.server.model.XenApiException;

/** Who a session reference belongs to (implemented by the session feature). */
public interface SessionCheck {
  /**
   * The caller of a session, refreshing its idle timer.
   *
   * @throws XenApiException SESSION_INVALID for unknown, logged-out or expired sessions
   */
  CallContext validate(String sessionRef) throws XenApiException;
}
