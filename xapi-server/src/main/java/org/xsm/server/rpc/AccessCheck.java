package org.xsm.server.rpc;

import java.util.List;
import org.xsm.server.model.XenApiException;

/** Whether a caller may call a message (implemented by the RBAC feature). */
public interface AccessCheck {
  /**
   * Checks the caller's permission for a message, before the message runs.
   *
   * @param message the synchronous wire name ({@code VM.start} for {@code Async.VM.start} too)
   * @param args the parameters after the session (some permissions depend on a map key)
   * @throws XenApiException {@code RBAC_PERMISSION_DENIED [permission, reason]}
   */
  void check(CallContext caller, String message, List<Object> args) throws XenApiException;
}
