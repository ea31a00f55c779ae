package org.xsm.server.session;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Secret;
import org.xsm.server.model.User;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.WireValues;

/**
 * The messages of the classes around sessions: {@code subject} (who may log in, with which roles),
 * {@code user} (xapi's deprecated class: records only) and {@code secret} (a value kept by UUID,
 * which only pool-operator and above may read).
 */
@ApplicationScoped
public class SubjectRpc implements RpcModule {
  @Inject Subjects subjects;
  @Inject Database db;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "subject.create",
        2,
        true,
        true,
        (ctx, a) ->
            subjects
                .create(String.valueOf(record(a).getOrDefault("subject_identifier", "")))
                .value());
    d.register(
        "subject.destroy",
        2,
        true,
        true,
        (ctx, a) -> none(() -> subjects.destroy(Params.ref(a, 0))));
    d.register(
        "subject.add_to_roles",
        3,
        true,
        true,
        (ctx, a) -> none(() -> subjects.addToRoles(Params.ref(a, 0), Params.ref(a, 1))));
    d.register(
        "subject.remove_from_roles",
        3,
        true,
        true,
        (ctx, a) -> none(() -> subjects.removeFromRoles(Params.ref(a, 0), Params.ref(a, 1))));
    d.register(
        "subject.get_permissions_name_label",
        2,
        true,
        false,
        (ctx, a) -> subjects.permissionNames(Params.ref(a, 0)));

    d.register(
        "user.create",
        2,
        true,
        true,
        (ctx, a) -> db.create(User.CLASS, WireValues.fromRecord(User.CLASS, record(a))).value());
    d.register(
        "user.destroy",
        2,
        true,
        true,
        (ctx, a) -> none(() -> db.destroy(User.CLASS, Params.ref(a, 0))));

    d.register(
        "secret.create",
        2,
        true,
        true,
        (ctx, a) ->
            db.create(Secret.CLASS, WireValues.fromRecord(Secret.CLASS, record(a))).value());
    d.register(
        "secret.introduce",
        4,
        true,
        true,
        (ctx, a) -> {
          String uuid = Params.str(a, 0);
          if (!db.where(Secret.UUID, uuid).isEmpty()) {
            throw new XenApiException(
                XenApiError.DB_UNIQUENESS_CONSTRAINT_VIOLATION, "secret", "uuid", uuid);
          }
          return db.create(
                  Secret.CLASS,
                  Values.of(Secret.CLASS)
                      .with(Secret.UUID, uuid)
                      .with(Secret.VALUE, Params.str(a, 1))
                      .with(Secret.OTHER_CONFIG, Params.stringMap(a.get(2), "other_config")))
              .value();
        });
    d.register(
        "secret.destroy",
        2,
        true,
        true,
        (ctx, a) -> none(() -> db.destroy(Secret.CLASS, Ref.<Secret>of(Params.str(a, 0)))));
  }

  private static Map<String, Object> record(java.util.List<Object> a) throws XenApiException {
    return Params.map(a.get(0), "args");
  }
}
