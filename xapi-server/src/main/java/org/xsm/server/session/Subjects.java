package org.xsm.server.session;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Role;
import org.xsm.server.model.StaticRole;
import org.xsm.server.model.Subject;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rbac.Roles;

/**
 * The pool's subjects: who, besides root, may log in, and with which roles. xsm has no external
 * directory; its local users ({@code XSM_USERS}) play that part, each one a subject whose
 * identifier is {@code xsm-local:<name>}. As in xapi a session's permissions are those of its
 * subject's roles, read at login; a subject without roles may not log in, and a user whose subject
 * was destroyed neither.
 */
@ApplicationScoped
public class Subjects {
  static final String LOCAL_PREFIX = "xsm-local:";

  @Inject Database db;
  @Inject Roles roles;
  @Inject Credentials credentials;

  /** The subject identifier of a local user. */
  public static String identifierOf(String user) {
    return LOCAL_PREFIX + user;
  }

  /** The subject of a local user, if there is one. */
  public Optional<Ref<Subject>> of(String user) {
    List<Ref<Subject>> found = db.where(Subject.SUBJECT_IDENTIFIER, identifierOf(user));
    return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
  }

  /** Makes a local user's subject hold exactly {@code role} (XSM_USERS, applied at each start). */
  public void assign(String user, StaticRole role) throws XenApiException {
    Optional<Ref<Subject>> s = of(user);
    if (s.isPresent()) {
      db.set(s.get(), Subject.ROLES, List.of(role.ref()));
    } else {
      db.create(
          Subject.CLASS,
          Values.of(Subject.CLASS)
              .with(Subject.SUBJECT_IDENTIFIER, identifierOf(user))
              .with(Subject.OTHER_CONFIG, directoryInfo(user))
              .with(Subject.ROLES, List.of(role.ref())));
    }
  }

  /** The highest static role a subject holds, if any. */
  public Optional<StaticRole> roleOf(Ref<Subject> subject) throws XenApiException {
    StaticRole best = null;
    for (Ref<Role> r : db.get(subject, Subject.ROLES)) {
      for (StaticRole s : StaticRole.values()) {
        if (s.ref().equals(r) && (best == null || s.includes(best))) {
          best = s;
        }
      }
    }
    return Optional.ofNullable(best);
  }

  /**
   * subject.create: a subject for a local user's identifier. Any other identifier would need an
   * external directory, and external authentication is disabled: xapi's {@code AUTH_IS_DISABLED}.
   * The new subject has no roles (xapi's default where RBAC is licensed), so it cannot log in until
   * {@code subject.add_to_roles}.
   */
  public Ref<Subject> create(String identifier) throws XenApiException {
    if (!db.where(Subject.SUBJECT_IDENTIFIER, identifier).isEmpty()) {
      throw new XenApiException(XenApiError.SUBJECT_ALREADY_EXISTS);
    }
    String user =
        identifier.startsWith(LOCAL_PREFIX) ? identifier.substring(LOCAL_PREFIX.length()) : null;
    if (user == null || user.equals("root") || !localUserExists(user)) {
      throw new XenApiException(XenApiError.AUTH_IS_DISABLED);
    }
    return db.create(
        Subject.CLASS,
        Values.of(Subject.CLASS)
            .with(Subject.SUBJECT_IDENTIFIER, identifier)
            .with(Subject.OTHER_CONFIG, directoryInfo(user)));
  }

  public void destroy(Ref<Subject> subject) throws XenApiException {
    db.destroy(Subject.CLASS, subject);
  }

  /** subject.add_to_roles: a static role (xapi: ROLE_NOT_FOUND, ROLE_ALREADY_EXISTS). */
  public void addToRoles(Ref<Subject> subject, Ref<Role> role) throws XenApiException {
    db.read(Subject.CLASS, subject);
    Roles.Entry e = roles.byRef(role.value());
    if (e == null || e.isPermission()) {
      throw new XenApiException(XenApiError.ROLE_NOT_FOUND);
    }
    db.modify(
        Subject.CLASS,
        subject,
        row -> {
          List<Ref<Role>> now = new ArrayList<>(row.get(Subject.ROLES));
          if (now.contains(role)) {
            throw new XenApiException(XenApiError.ROLE_ALREADY_EXISTS);
          }
          now.add(role);
          return Values.of(Subject.CLASS).with(Subject.ROLES, now);
        });
  }

  /** subject.remove_from_roles (xapi: ROLE_NOT_FOUND when the subject does not hold it). */
  public void removeFromRoles(Ref<Subject> subject, Ref<Role> role) throws XenApiException {
    db.modify(
        Subject.CLASS,
        subject,
        row -> {
          List<Ref<Role>> now = new ArrayList<>(row.get(Subject.ROLES));
          if (!now.remove(role)) {
            throw new XenApiException(XenApiError.ROLE_NOT_FOUND);
          }
          return Values.of(Subject.CLASS).with(Subject.ROLES, now);
        });
  }

  /** subject.get_permissions_name_label: the union of its roles' permissions. */
  public List<String> permissionNames(Ref<Subject> subject) throws XenApiException {
    TreeSet<String> out = new TreeSet<>();
    for (Ref<Role> r : db.get(subject, Subject.ROLES)) {
      Roles.Entry e = roles.byRef(r.value());
      if (e != null) {
        roles.permissionsOf(e).forEach(p -> out.add(p.nameLabel()));
      }
    }
    return new ArrayList<>(out);
  }

  private boolean localUserExists(String user) {
    return credentials.find(user) != null;
  }

  /** What a directory says of a user, under the keys xapi's AD plugin uses. */
  private static Map<String, String> directoryInfo(String user) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("subject-name", user);
    m.put("subject-upn", user);
    m.put("subject-displayname", user);
    m.put("subject-sid", identifierOf(user));
    m.put("subject-is-group", "false");
    m.put("subject-account-disabled", "false");
    m.put("subject-account-expired", "false");
    m.put("subject-account-locked", "false");
    m.put("subject-password-expired", "false");
    return m;
  }
}
