package org.xsm.server.rbac;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.model.Field;
import org.xsm.server.model.Role;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/**
 * The {@code role} messages, answered from the static catalogue ({@link Roles}) as xapi answers
 * them; they replace the generic messages, which would read the (empty) database.
 */
@ApplicationScoped
public class RoleRpc implements RpcModule {
  @Inject Roles roles;

  @Override
  public void register(Dispatcher d) {
    d.register("role.get_all", 1, true, false, (ctx, a) -> refs(roles.all()));
    d.register(
        "role.get_all_records",
        1,
        true,
        false,
        (ctx, a) -> {
          Map<String, Object> out = new LinkedHashMap<>();
          for (Roles.Entry e : roles.all()) {
            out.put(e.ref().value(), roles.wireRecord(e));
          }
          return out;
        });
    d.register(
        "role.get_record", 2, true, false, (ctx, a) -> roles.wireRecord(role(Params.str(a, 0))));
    d.register(
        "role.get_by_uuid",
        2,
        true,
        false,
        (ctx, a) -> {
          Roles.Entry e = roles.byUuid(Params.str(a, 0));
          if (e == null) {
            throw new XenApiException(XenApiError.UUID_INVALID, "role", Params.str(a, 0));
          }
          return e.ref().value();
        });
    d.register(
        "role.get_by_name_label",
        2,
        true,
        false,
        (ctx, a) -> {
          Roles.Entry e = roles.byName(Params.str(a, 0));
          return e == null ? List.of() : List.of(e.ref().value());
        });
    for (Field<Role, ?> f : Role.CLASS.fields()) {
      String name = f.name();
      d.register(
          "role.get_" + name,
          2,
          true,
          false,
          (ctx, a) -> roles.wireField(role(Params.str(a, 0)), name));
    }
    d.register(
        "role.get_permissions",
        2,
        true,
        false,
        (ctx, a) -> refs(roles.permissionsOf(role(Params.str(a, 0)))));
    d.register(
        "role.get_permissions_name_label",
        2,
        true,
        false,
        (ctx, a) -> names(roles.permissionsOf(role(Params.str(a, 0)))));
    d.register(
        "role.get_by_permission",
        2,
        true,
        false,
        (ctx, a) -> refs(holders(role(Params.str(a, 0)).nameLabel())));
    d.register(
        "role.get_by_permission_name_label",
        2,
        true,
        false,
        (ctx, a) -> refs(holders(Params.str(a, 0))));
  }

  private Roles.Entry role(String ref) throws XenApiException {
    Roles.Entry e = roles.byRef(ref);
    if (e == null) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "role", ref);
    }
    return e;
  }

  /** The roles other than the permission itself that hold it (xapi: the static roles). */
  private List<Roles.Entry> holders(String permission) {
    List<Roles.Entry> out = new ArrayList<>();
    for (Roles.Entry e : roles.all()) {
      if (!e.isPermission()
          && roles.permissionsOf(e).stream().anyMatch(p -> p.nameLabel().equals(permission))) {
        out.add(e);
      }
    }
    return out;
  }

  private static List<String> refs(List<Roles.Entry> es) {
    return es.stream().map(e -> e.ref().value()).toList();
  }

  private static List<String> names(List<Roles.Entry> es) {
    return es.stream().map(Roles.Entry::nameLabel).toList();
  }
}
