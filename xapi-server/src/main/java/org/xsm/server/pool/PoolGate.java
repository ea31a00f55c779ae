package org.xsm.server.pool;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Set;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.CallGate;

/**
 * A member answers only what concerns itself: the local and pool logins, the emergency transitions,
 * its own ejection. Everything else gets {@code HOST_IS_SLAVE [master address]}, which XenAPI.py,
 * the Java SDK and Xen Orchestra's connector follow to the master (xapi's answer to a login on a
 * member).
 */
@ApplicationScoped
public class PoolGate implements CallGate {
  /** What a member answers itself. */
  private static final Set<String> ANSWERED =
      Set.of(
          "system.listMethods",
          "session.slave_login",
          "session.slave_local_login_with_password",
          "session.local_logout",
          "session.logout",
          "pool.emergency_transition_to_master",
          "pool.emergency_reset_master",
          "pool.eject",
          PoolAgent.CREATE,
          PoolAgent.CONTROL,
          PoolAgent.MIGRATE_IN,
          PoolAgent.MIGRATE_OUT,
          PoolAgent.MIGRATE_FINISH,
          PoolStorage.PLUG,
          PoolStorage.UNPLUG);

  static final Set<String> MEMBER_MESSAGES = memberMessages();

  private static Set<String> memberMessages() {
    Set<String> s = new java.util.HashSet<>(AgentVdis.MESSAGES);
    s.addAll(ANSWERED);
    return Set.copyOf(s);
  }

  @Inject PoolState state;

  @Override
  public void admit(String method) throws XenApiException {
    PoolRole r = state.role();
    if (r.member() && !MEMBER_MESSAGES.contains(method)) {
      throw new XenApiException(XenApiError.HOST_IS_SLAVE, r.masterAddress());
    }
  }
}
