package org.xsm.server.rbac;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.stream.Collectors;
import org.xsm.server.model.StaticRole;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.AccessCheck;
import org.xsm.server.rpc.CallContext;

/**
 * The one access check: every XenAPI call (through the Dispatcher), every HTTP handler and every
 * REST call asks it before acting. The local superuser may do everything, as in xapi; anyone else
 * needs a role holding the permission ({@link Permissions}).
 */
@ApplicationScoped
public class Rbac implements AccessCheck {

  @Override
  public void check(CallContext caller, String message, List<Object> args) throws XenApiException {
    require(caller, Permissions.of(message, args));
  }

  /** Checks the permission of an HTTP handler, named as xapi's ({@code get_export_raw_vdi}). */
  public void checkHttp(CallContext caller, String action) throws XenApiException {
    require(caller, Permissions.http(action));
  }

  /** Whether the caller may call {@code message} (its permission, whatever the arguments). */
  public boolean allows(CallContext caller, String message) {
    return Permissions.of(message, List.of()).requirement().allows(caller);
  }

  private static void require(CallContext caller, Permissions.Resolved p) throws XenApiException {
    if (!p.requirement().allows(caller)) {
      throw denied(p);
    }
  }

  /** xapi's refusal: {@code RBAC_PERMISSION_DENIED [permission, reason naming the roles]}. */
  static XenApiException denied(Permissions.Resolved p) {
    String roles =
        p.requirement().roles().stream().map(StaticRole::wire).collect(Collectors.joining(", "));
    return new XenApiException(
        XenApiError.RBAC_PERMISSION_DENIED,
        p.permission(),
        "No permission in user session. (Roles with this permission: " + roles + ")");
  }
}
