package org.xsm.server.session;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Session;
import org.xsm.server.model.User;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.SessionCheck;

/**
 * Login, logout and session checks. Passwords are kept as salted PBKDF2 hashes ({@link
 * Credential}). Live sessions are also held in memory, so checking one costs no database read; a
 * session idle longer than {@code XSM_SESSION_IDLE_SECONDS} (default one day) expires.
 */
@ApplicationScoped
public class Sessions implements SessionCheck {
  private static final Logger LOG = Logger.getLogger(Sessions.class);
  private static final int ITERATIONS = 50_000;

  @Inject Database db;

  /** {@code XSM_ROOT_PASSWORD} (environment) or {@code xsm.root-password}. */
  @org.eclipse.microprofile.config.inject.ConfigProperty(name = "xsm.root-password")
  java.util.Optional<String> rootPassword;

  /**
   * {@code XSM_USERS}: more local users, {@code name:password:role} separated by {@code ;} (role
   * {@code pool-admin} or {@code read-only}); applied at every start.
   */
  @org.eclipse.microprofile.config.inject.ConfigProperty(name = "xsm.users")
  java.util.Optional<String> users;

  /** Creates or updates the users of {@code XSM_USERS}. */
  public void bootstrapUsers() {
    if (users.isEmpty() || users.get().isBlank()) {
      return;
    }
    for (String entry : users.get().split(";")) {
      String[] p = entry.trim().split(":", 3);
      if (p.length != 3 || !(p[2].equals("pool-admin") || p[2].equals("read-only"))) {
        throw new IllegalArgumentException(
            "XSM_USERS entry '" + entry + "' is not name:password:(pool-admin|read-only)");
      }
      setPassword(p[0], p[1], p[2]);
    }
  }

  private record Live(String user, boolean readOnly, long lastActiveMillis) {}

  private final Map<String, Live> live = new ConcurrentHashMap<>();
  private volatile long idleMillis =
      Long.parseLong(System.getenv().getOrDefault("XSM_SESSION_IDLE_SECONDS", "86400")) * 1000;

  /** Changes the idle timeout (tests). */
  public void setIdleMillis(long ms) {
    idleMillis = ms;
  }

  /** Creates root on first start (and resets its password when XSM_ROOT_PASSWORD is given). */
  public void bootstrapRoot() {
    String given = rootPassword.orElse(null);
    Credential existing = QuarkusTransaction.requiringNew().call(() -> Credential.findById("root"));
    if (existing != null && given == null) {
      return;
    }
    String pw = given;
    if (pw == null) {
      byte[] r = new byte[12];
      new SecureRandom().nextBytes(r);
      pw = Base64.getUrlEncoder().withoutPadding().encodeToString(r);
      LOG.infof("Generated the root password (shown once): %s", pw);
    }
    setPassword("root", pw, "pool-admin");
  }

  /** Creates or updates a local user. */
  public void setPassword(String user, String password, String role) {
    byte[] salt = new byte[16];
    new SecureRandom().nextBytes(salt);
    String saltB64 = Base64.getEncoder().encodeToString(salt);
    String hash = hash(password, salt);
    QuarkusTransaction.requiringNew()
        .run(
            () -> {
              Credential c = Credential.findById(user);
              if (c == null) {
                c = new Credential();
                c.name = user;
                c.salt = saltB64;
                c.hash = hash;
                c.role = role;
                c.persist();
              } else {
                c.salt = saltB64;
                c.hash = hash;
                c.role = role;
              }
            });
    if (db.where(User.SHORT_NAME, user).isEmpty()) {
      db.create(
          User.CLASS, Values.of(User.CLASS).with(User.SHORT_NAME, user).with(User.FULLNAME, user));
    }
  }

  private static String hash(String password, byte[] salt) {
    try {
      SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
      byte[] h =
          f.generateSecret(new PBEKeySpec(password.toCharArray(), salt, ITERATIONS, 256))
              .getEncoded();
      return Base64.getEncoder().encodeToString(h);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** session.get_this_host / get_this_user of a valid session. */
  public <T> T field(String ref, org.xsm.server.model.Field<Session, T> f) throws XenApiException {
    validate(ref);
    return db.get(Ref.<Session>of(ref), f);
  }

  /**
   * Checks a user's password (HTTP Basic on the REST API).
   *
   * @return the caller (read-only flag included), or null if the credentials are wrong
   */
  public CallContext authenticate(String user, String password) {
    Credential c = QuarkusTransaction.requiringNew().call(() -> Credential.findById(user));
    if (c == null
        || !MessageDigest.isEqual(
            hash(password, Base64.getDecoder().decode(c.salt)).getBytes(), c.hash.getBytes())) {
      return null;
    }
    return new CallContext(null, user, "read-only".equals(c.role), null);
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
    String pw = Params.str(a, 1);
    String originator = a.size() == 4 ? Params.str(a, 3) : "";
    Credential c = QuarkusTransaction.requiringNew().call(() -> Credential.findById(user));
    if (c == null
        || !MessageDigest.isEqual(
            hash(pw, Base64.getDecoder().decode(c.salt)).getBytes(), c.hash.getBytes())) {
      throw new XenApiException(
          XenApiError.SESSION_AUTHENTICATION_FAILED, user, "Authentication failure");
    }
    List<Ref<User>> users = db.where(User.SHORT_NAME, user);
    String ref =
        db.create(
                Session.CLASS,
                Values.of(Session.CLASS)
                    .with(Session.THIS_HOST, db.first(Host.CLASS))
                    .with(Session.THIS_USER, users.isEmpty() ? Ref.nullRef() : users.get(0))
                    .with(Session.LAST_ACTIVE, Instant.now())
                    .with(Session.IS_LOCAL_SUPERUSER, "root".equals(user))
                    .with(Session.AUTH_USER_NAME, user)
                    .with(Session.ORIGINATOR, originator))
            .value();
    live.put(ref, new Live(user, "read-only".equals(c.role), System.currentTimeMillis()));
    return ref;
  }

  /** session.logout. */
  public void logout(String ref) throws XenApiException {
    live.remove(ref);
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
      live.put(ref, new Live(l.user(), l.readOnly(), now));
    }
    return new CallContext(ref, l.user(), l.readOnly(), null);
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
