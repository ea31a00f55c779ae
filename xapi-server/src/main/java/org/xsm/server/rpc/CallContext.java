package org.xsm.server.rpc;

import org.xsm.server.model.StaticRole;

/**
 * Who is calling: the session reference (null for calls that need none), the user name, the user's
 * role (the highest of its subject's roles), whether the session is the local superuser's (root:
 * every permission, as xapi), and the task the call runs under when it is asynchronous (null
 * otherwise).
 */
public record CallContext(
    String session, String user, StaticRole role, boolean superuser, String task) {

  /** The caller of a message that needs no session (login, system.listMethods). */
  public static CallContext anonymous() {
    return new CallContext(null, null, StaticRole.READ_ONLY, false, null);
  }

  /** Whether the caller may only read (the read-only role). */
  public boolean readOnly() {
    return !superuser && role == StaticRole.READ_ONLY;
  }

  /** The same caller, running under {@code taskRef}. */
  public CallContext withTask(String taskRef) {
    return new CallContext(session, user, role, superuser, taskRef);
  }
}
