package org.xsm.server.rbac;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.model.Field;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Role;
import org.xsm.server.model.StaticRole;
import org.xsm.server.rpc.Dispatcher;

/**
 * The {@code role} records, as xapi keeps them: static, never in the database (so they make no
 * events), one per static role and one per permission. A permission is a role without subroles; a
 * static role's subroles are its permissions. References are {@code OpaqueRef:<uuid>} and UUIDs
 * xapi's ({@link StaticRole#uuid}, MD5 of a permission's name), so they are the same after every
 * start. Permissions are every message the server answers, the protected map keys and the HTTP
 * handlers; the table is built on first use, once every feature has registered its messages.
 */
@ApplicationScoped
public class Roles {
  /** A role record. */
  public record Entry(
      Ref<Role> ref,
      String uuid,
      String nameLabel,
      String description,
      List<Ref<Role>> subroles,
      Requirement requirement) {

    public boolean isPermission() {
      return subroles.isEmpty();
    }
  }

  private static final String PERMISSION_DESCRIPTION = "A basic permission";

  @Inject Dispatcher dispatcher;

  private volatile Catalogue catalogue;

  private record Catalogue(
      Map<String, Entry> byRef,
      Map<String, Entry> byUuid,
      Map<String, Entry> byName,
      Map<StaticRole, Entry> staticRoles,
      Map<StaticRole, List<String>> names) {}

  private Catalogue catalogue() {
    Catalogue c = catalogue;
    if (c == null) {
      synchronized (this) {
        c = catalogue;
        if (c == null) {
          c = build();
          catalogue = c;
        }
      }
    }
    return c;
  }

  private Catalogue build() {
    Map<String, Requirement> perms = new LinkedHashMap<>();
    Map<String, String> wireNames = new LinkedHashMap<>();
    for (String m : dispatcher.listMethods()) {
      if (m.startsWith("system.")) {
        continue; // no session, nothing to check: not a permission in xapi either
      }
      String p = m.toLowerCase(java.util.Locale.ROOT);
      perms.put(p, Permissions.of(m, List.of()).requirement());
      wireNames.put(p, m);
    }
    perms.putAll(Permissions.keyPermissions());
    for (String a : Permissions.httpActions()) {
      Permissions.Resolved r = Permissions.http(a);
      perms.put(r.permission(), r.requirement());
    }
    Map<String, Entry> byRef = new LinkedHashMap<>();
    Map<String, Entry> byUuid = new LinkedHashMap<>();
    Map<String, Entry> byName = new LinkedHashMap<>();
    Map<StaticRole, List<Ref<Role>>> held = new LinkedHashMap<>();
    Map<StaticRole, List<String>> names = new LinkedHashMap<>();
    for (StaticRole r : StaticRole.values()) {
      held.put(r, new ArrayList<>());
      names.put(r, new ArrayList<>());
    }
    for (Map.Entry<String, Requirement> p : perms.entrySet()) {
      String uuid = StaticRole.digestUuid(wireNames.getOrDefault(p.getKey(), p.getKey()));
      Entry e =
          new Entry(
              Ref.of("OpaqueRef:" + uuid),
              uuid,
              p.getKey(),
              PERMISSION_DESCRIPTION,
              List.of(),
              p.getValue());
      index(e, byRef, byUuid, byName);
      for (StaticRole r : StaticRole.values()) {
        if (p.getValue().heldBy(r)) {
          held.get(r).add(e.ref());
          names.get(r).add(e.nameLabel());
        }
      }
    }
    Map<StaticRole, Entry> staticRoles = new LinkedHashMap<>();
    Map<StaticRole, List<String>> frozenNames = new LinkedHashMap<>();
    for (StaticRole r : StaticRole.values()) {
      Entry e =
          new Entry(
              r.ref(),
              r.uuid(),
              r.wire(),
              r.description(),
              List.copyOf(held.get(r)),
              Requirement.atLeast(r));
      index(e, byRef, byUuid, byName);
      staticRoles.put(r, e);
      frozenNames.put(r, List.copyOf(names.get(r)));
    }
    return new Catalogue(
        Collections.unmodifiableMap(byRef),
        Collections.unmodifiableMap(byUuid),
        Collections.unmodifiableMap(byName),
        Collections.unmodifiableMap(staticRoles),
        Collections.unmodifiableMap(frozenNames));
  }

  private static void index(
      Entry e, Map<String, Entry> byRef, Map<String, Entry> byUuid, Map<String, Entry> byName) {
    byRef.put(e.ref().value(), e);
    byUuid.put(e.uuid(), e);
    byName.put(e.nameLabel(), e);
  }

  /** Every role record, the static roles last (as xapi lists them: permissions, then roles). */
  public List<Entry> all() {
    return List.copyOf(catalogue().byRef().values());
  }

  /** The record of a reference, or null. */
  public Entry byRef(String ref) {
    return catalogue().byRef().get(ref);
  }

  public Entry byUuid(String uuid) {
    return catalogue().byUuid().get(uuid);
  }

  public Entry byName(String nameLabel) {
    return catalogue().byName().get(nameLabel);
  }

  public Entry of(StaticRole role) {
    return catalogue().staticRoles().get(role);
  }

  /** The names of a static role's permissions (a session's {@code rbac_permissions}). */
  public List<String> permissionNames(StaticRole role) {
    return catalogue().names().get(role);
  }

  /** A role's permissions: itself for a permission, its subroles for a static role. */
  public List<Entry> permissionsOf(Entry e) {
    if (e.isPermission()) {
      return List.of(e);
    }
    List<Entry> out = new ArrayList<>();
    for (Ref<Role> p : e.subroles()) {
      out.add(byRef(p.value()));
    }
    return out;
  }

  /** The wire record of a role, with every field of the model's {@code role} class. */
  public Map<String, Object> wireRecord(Entry e) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Field<Role, ?> f : Role.CLASS.fields()) {
      out.put(f.name(), wireField(e, f.name()));
    }
    return out;
  }

  /** One field of a role's wire record. */
  public Object wireField(Entry e, String field) {
    return switch (field) {
      case "uuid" -> e.uuid();
      case "name_label" -> e.nameLabel();
      case "name_description" -> e.description();
      case "subroles" -> e.subroles().stream().map(Ref::value).toList();
      case "is_internal" -> e.isPermission();
      default -> Role.CLASS.field(field).defaultValue();
    };
  }
}
