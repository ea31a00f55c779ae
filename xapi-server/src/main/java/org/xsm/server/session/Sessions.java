package org.xsm.server.session;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Session;
import org.xsm.server.model.StaticRole;
import org.xsm.server.model.Subject;
import org.xsm.server.model.User;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rbac.Roles;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.SessionCheck;

/**
 * Login, logout and session checks; passwords are checked by {@link LocalUsers}. Live sessions are
 * also held in memory, so checking one costs no database read; a session idle longer than {@code
 * XSM_SESSION_IDLE_SECONDS} (default one day) expires.
 */
@ApplicationScoped
public class Sessions implements SessionCheck {
  private static final Logger LOG = Logger.getLogger(Sessions.class);

  @Inject Database db;
  @Inject org.xsm.server.host.HostService hostService;
  @Inject Subjects subjects;
  @Inject Roles roles;
  @Inject LoginThrottle throttle;
  @Inject LocalUsers localUsers;

  /** {@code XSM_MAX_SESSIONS_PER_USER}: beyond it, a login ends the user's oldest session. */
  @org.eclipse.microprofile.config.inject.ConfigProperty(
      name = "xsm.max-sessions-per-user",
      defaultValue = "500")
  int maxSessionsPerUser;

  private SessionLimit limit;

  private synchronized SessionLimit limit() {
    if (limit == null) {
      limit = new SessionLimit(maxSessionsPerUser);
    }
    return limit;
  }

  /**
   * Checks a password through the login throttle (per user and source address): a refused attempt
   * throws without checking it; the outcome is counted.
   */
  private boolean checkPassword(String user, String password) throws XenApiException {
    String from = org.xsm.server.rpc.CallOrigin.current();
    throttle.check(user, from);
    if (!localUsers.passwordMatches(user, password)) {
      throttle.failed(user, from);
      return false;
    }
    throttle.succeeded(user, from);
    return true;
  }

  /**
   * A live session: its caller, whether it is a local session of {@code
   * slave_local_login_with_password} (which only {@code session.local_logout} ends), and when it
   * was last used.
   */
  private record Live(CallContext caller, boolean local, long lastActiveMillis) {
    Live touched(long now) {
      return new Live(caller, local, now);
    }
  }

  private final Map<String, Live> live = new ConcurrentHashMap<>();
  private volatile long idleMillis =
      Long.parseLong(System.getenv().getOrDefault("XSM_SESSION_IDLE_SECONDS", "86400")) * 1000;

  /** Changes the idle timeout (tests). */
  public void setIdleMillis(long ms) {
    idleMillis = ms;
  }

  /** session.get_this_host / get_this_user of a valid session. */
  public <T> T field(String ref, org.xsm.server.model.Field<Session, T> f) throws XenApiException {
    validate(ref);
    return db.get(Ref.<Session>of(ref), f);
  }

  /**
   * Checks a user's password (HTTP Basic on the REST API).
   *
   * @return the caller with its role, or null if the credentials are wrong or the user may not log
   *     in (no subject, or a subject without roles)
   */
  public CallContext authenticate(String user, String password) {
    try {
      if (!checkPassword(user, password)) {
        return null;
      }
    } catch (XenApiException e) {
      return null; // throttled
    }
    try {
      return caller(null, user);
    } catch (XenApiException e) {
      return null;
    }
  }

  /**
   * The caller of a REST request: a XenAPI session in {@code X-XenAPI-Session} (what the console
   * sends, so it never keeps a password), else HTTP Basic with a local user's password.
   *
   * @return the caller, or null if neither is given or valid
   */
  public CallContext fromHttp(String authorization, String xenApiSession) {
    if (xenApiSession != null && !xenApiSession.isBlank()) {
      try {
        return validate(xenApiSession.trim());
      } catch (XenApiException e) {
        return null;
      }
    }
    if (authorization != null && authorization.startsWith("Basic ")) {
      String up;
      try {
        up =
            new String(
                Base64.getDecoder().decode(authorization.substring(6).trim()),
                java.nio.charset.StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return null;
      }
      int colon = up.indexOf(':');
      if (colon > 0) {
        return authenticate(up.substring(0, colon), up.substring(colon + 1));
      }
    }
    return null;
  }

  /** session.login_with_password(user, password[, version, originator]). */
  public String login(List<Object> a) throws XenApiException {
    if (a.size() < 2 || a.size() > 4) {
      throw new XenApiException(
          XenApiError.MESSAGE_PARAMETER_COUNT_MISMATCH,
          "session.login_with_password",
          "2",
          String.valueOf(a.size()));
    }
    String user = Params.str(a, 0);
    if (!checkPassword(user, Params.str(a, 1))) {
      throw new XenApiException(
          XenApiError.SESSION_AUTHENTICATION_FAILED, user, "Authentication failure");
    }
    return open(caller(null, user), a.size() == 4 ? Params.str(a, 3) : "", false);
  }

  /** A new session of {@code who}: its record, and its caller held in memory. */
  private String open(CallContext who, String originator, boolean local) throws XenApiException {
    String user = who.user();
    Ref<Subject> subject =
        who.superuser() ? Ref.nullRef() : subjects.of(user).orElse(Ref.nullRef());
    List<Ref<User>> users = db.where(User.SHORT_NAME, user);
    Instant now = Instant.now();
    String ref =
        db.create(
                Session.CLASS,
                Values.of(Session.CLASS)
                    .with(Session.THIS_HOST, hostService.host())
                    .with(Session.THIS_USER, users.isEmpty() ? Ref.nullRef() : users.get(0))
                    .with(Session.LAST_ACTIVE, now)
                    .with(Session.VALIDATION_TIME, now)
                    .with(Session.IS_LOCAL_SUPERUSER, who.superuser())
                    .with(Session.SUBJECT, subject)
                    .with(Session.AUTH_USER_SID, who.superuser() ? "" : Subjects.identifierOf(user))
                    .with(Session.AUTH_USER_NAME, user)
                    // As xapi: root's session lists no permissions (it is never checked).
                    .with(
                        Session.RBAC_PERMISSIONS,
                        who.superuser() ? List.of() : roles.permissionNames(who.role()))
                    .with(Session.ORIGINATOR, originator))
            .value();
    live.put(
        ref,
        new Live(
            new CallContext(ref, user, who.role(), who.superuser(), null),
            local,
            System.currentTimeMillis()));
    for (String old : limit().opened(user, ref)) {
      logout(old); // xapi's cap: the user's oldest session ends
    }
    return ref;
  }

  /**
   * Who a user is once logged in: root is the local superuser (pool-admin, never checked); anyone
   * else has the highest role of its subject.
   *
   * @throws XenApiException SESSION_AUTHENTICATION_FAILED when the user has no subject,
   *     RBAC_PERMISSION_DENIED when its subject has no role (both as xapi)
   */
  private CallContext caller(String session, String user) throws XenApiException {
    if (user.equals(LocalUsers.ROOT)) {
      return new CallContext(session, user, StaticRole.POOL_ADMIN, true, null);
    }
    Ref<Subject> subject =
        subjects
            .of(user)
            .orElseThrow(
                () ->
                    new XenApiException(
                        XenApiError.SESSION_AUTHENTICATION_FAILED,
                        user,
                        "The user is not in the pool's list of subjects"));
    StaticRole role =
        subjects
            .roleOf(subject)
            .orElseThrow(
                () ->
                    new XenApiException(
                        XenApiError.RBAC_PERMISSION_DENIED,
                        user,
                        "Subject "
                            + user
                            + " (identifier "
                            + Subjects.identifierOf(user)
                            + ") has no roles in this pool"));
    return new CallContext(session, user, role, false, null);
  }

  /**
   * session.slave_local_login_with_password: only root's password, as xapi (which checks it against
   * the local superuser's account only); the session lives in memory only, with every permission,
   * and ends with {@code session.local_logout}.
   */
  public String localLogin(List<Object> a) throws XenApiException {
    String user = Params.str(a, 0);
    if (!user.equals(LocalUsers.ROOT) || !checkPassword(user, Params.str(a, 1))) {
      throw new XenApiException(
          XenApiError.SESSION_AUTHENTICATION_FAILED, user, "Authentication failure");
    }
    return open(caller(null, user), "", true);
  }

  /**
   * session.slave_login, once the pool secret is checked: a session of the pool's own (another host
   * of the pool calling this one), with every permission, in memory only like a local session.
   */
  public String poolLogin() throws XenApiException {
    return open(caller(null, LocalUsers.ROOT), "pool", true);
  }

  /** session.local_logout: ends a local session; for any other session it does nothing, as xapi. */
  public void localLogout(String ref) throws XenApiException {
    Live l = live.get(ref);
    if (l != null && l.local()) {
      logout(ref);
    }
  }

  /**
   * session.change_password: the local superuser's password (xapi changes only root's, and does not
   * check the old one for root). Only root's session gets here: the permission is root's own.
   */
  public void changePassword(CallContext caller, String newPassword) throws XenApiException {
    if (!caller.superuser()) {
      throw new XenApiException(
          XenApiError.USER_IS_NOT_LOCAL_SUPERUSER,
          "Failed to change password for user " + caller.user());
    }
    localUsers.setPassword(LocalUsers.ROOT, newPassword, StaticRole.POOL_ADMIN.wire());
  }

  /** session.get_all_subject_identifiers: the identifiers of every logged-in subject. */
  public List<String> allSubjectIdentifiers() throws XenApiException {
    java.util.TreeSet<String> out = new java.util.TreeSet<>();
    for (Ref<Session> s : db.all(Session.CLASS)) {
      if (!db.get(s, Session.IS_LOCAL_SUPERUSER)) {
        out.add(db.get(s, Session.AUTH_USER_SID));
      }
    }
    return new java.util.ArrayList<>(out);
  }

  /**
   * session.logout_subject_identifier: ends every session of a subject but the caller's, never the
   * local superuser's.
   */
  public void logoutSubjectIdentifier(CallContext caller, String identifier)
      throws XenApiException {
    for (Ref<Session> s : db.all(Session.CLASS)) {
      if (!s.value().equals(caller.session())
          && !db.get(s, Session.IS_LOCAL_SUPERUSER)
          && identifier.equals(db.get(s, Session.AUTH_USER_SID))) {
        logout(s.value());
      }
    }
  }

  /** session.logout. */
  public void logout(String ref) throws XenApiException {
    Live l = live.remove(ref);
    if (l != null) {
      limit().closed(l.caller().user(), ref);
    }
    if (db.exists(Session.CLASS, Ref.of(ref))) {
      db.destroy(Session.CLASS, Ref.of(ref));
    }
  }

  /**
   * The caller of a session, refreshing its idle timer.
   *
   * @throws XenApiException SESSION_INVALID for unknown, logged-out or expired sessions
   */
  @Override
  public CallContext validate(String ref) throws XenApiException {
    Live l = live.get(ref);
    long now = System.currentTimeMillis();
    if (l == null || now - l.lastActiveMillis() > idleMillis) {
      if (l != null) {
        logout(ref);
      }
      throw new XenApiException(XenApiError.SESSION_INVALID, String.valueOf(ref));
    }
    if (now - l.lastActiveMillis() > 1000) {
      live.put(ref, l.touched(now));
    }
    return l.caller();
  }

  /** Drops sessions left from before a restart (they are not valid any more). */
  public void forgetStaleSessions() throws XenApiException {
    for (Ref<Session> ref : db.all(Session.CLASS)) {
      if (!live.containsKey(ref.value())) {
        db.destroy(Session.CLASS, ref);
      }
    }
  }
}
