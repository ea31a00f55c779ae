package org.xsm.server.session;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.model.StaticRole;
import org.xsm.server.model.User;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiException;

/**
 * The host's local users: root (created at first start) and those of {@code XSM_USERS}, each with a
 * salted PBKDF2 hash of its password ({@link Credential}), a {@code user} record and, but for root,
 * a subject holding its role.
 */
@ApplicationScoped
public class LocalUsers {
  private static final Logger LOG = Logger.getLogger(LocalUsers.class);
  private static final int ITERATIONS = 50_000;
  static final String ROOT = "root";

  @Inject Database db;
  @Inject Subjects subjects;
  @Inject Credentials credentials;

  /** {@code XSM_ROOT_PASSWORD} (environment) or {@code xsm.root-password}. */
  @org.eclipse.microprofile.config.inject.ConfigProperty(name = "xsm.root-password")
  java.util.Optional<String> rootPassword;

  /**
   * {@code XSM_USERS}: more local users, {@code name:password:role} separated by {@code ;} (role:
   * one of xapi's six, e.g. {@code vm-operator}); applied at every start.
   */
  @org.eclipse.microprofile.config.inject.ConfigProperty(name = "xsm.users")
  java.util.Optional<String> users;

  /** Creates or updates the users of {@code XSM_USERS}. */
  public void bootstrapUsers() throws XenApiException {
    if (users.isEmpty() || users.get().isBlank()) {
      return;
    }
    for (String entry : users.get().split(";")) {
      String[] p = entry.trim().split(":", 3);
      if (p.length != 3 || StaticRole.byLabel(p[2]) == null || p[0].equals("root")) {
        throw new IllegalArgumentException(
            "XSM_USERS entry '"
                + entry
                + "' is not name:password:role with a user other than root and a role among "
                + java.util.Arrays.stream(StaticRole.values()).map(StaticRole::wire).toList());
      }
      setPassword(p[0], p[1], p[2]);
    }
  }

  /** Creates root on first start (and resets its password when XSM_ROOT_PASSWORD is given). */
  public void bootstrapRoot() throws XenApiException {
    String given = rootPassword.orElse(null);
    Credential existing = credentials.find(ROOT);
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
    setPassword(ROOT, pw, StaticRole.POOL_ADMIN.wire());
  }

  /**
   * Creates or updates a local user and, but for root, its subject holding {@code role}.
   *
   * @param role one of xapi's six role names
   */
  public void setPassword(String user, String password, String role) throws XenApiException {
    StaticRole r = StaticRole.byLabel(role);
    if (r == null) {
      throw new IllegalArgumentException("no such role: " + role);
    }
    byte[] salt = new byte[16];
    new SecureRandom().nextBytes(salt);
    String saltB64 = Base64.getEncoder().encodeToString(salt);
    String hash = hash(password, salt);
    credentials.save(new Credential(user, saltB64, hash, role));
    if (db.where(User.SHORT_NAME, user).isEmpty()) {
      db.create(
          User.CLASS, Values.of(User.CLASS).with(User.SHORT_NAME, user).with(User.FULLNAME, user));
    }
    if (!user.equals(ROOT)) {
      subjects.assign(user, r);
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

  /** Whether {@code password} is the local user's, by its salted hash. */
  boolean passwordMatches(String user, String password) {
    Credential c = credentials.find(user);
    return c != null
        && MessageDigest.isEqual(
            hash(password, Base64.getDecoder().decode(c.salt())).getBytes(), c.hash().getBytes());
  }
}
