package org.xsm.server.rbac;

import java.util.ArrayList;
import java.util.List;
import org.xsm.server.model.StaticRole;
import org.xsm.server.rpc.CallContext;

/**
 * Who holds a permission: every role from pool-admin down to {@code minimum}, or nobody but the
 * local superuser (xapi's {@code _R_LOCAL_ROOT_ONLY}: root, whom xapi never checks).
 */
public record Requirement(StaticRole minimum, boolean localSuperuserOnly) {
  public static final Requirement LOCAL_SUPERUSER = new Requirement(StaticRole.POOL_ADMIN, true);

  public static Requirement atLeast(StaticRole minimum) {
    return new Requirement(minimum, false);
  }

  public boolean allows(CallContext caller) {
    return caller.superuser() || (!localSuperuserOnly && caller.role().includes(minimum));
  }

  public boolean heldBy(StaticRole role) {
    return !localSuperuserOnly && role.includes(minimum);
  }

  /** The roles holding it, highest first (none for the local superuser's own permissions). */
  public List<StaticRole> roles() {
    List<StaticRole> out = new ArrayList<>();
    for (StaticRole r : StaticRole.values()) {
      if (heldBy(r)) {
        out.add(r);
      }
    }
    return out;
  }
}
