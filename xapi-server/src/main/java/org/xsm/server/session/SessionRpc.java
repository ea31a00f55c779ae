package org.xsm.server.session;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.xsm.server.model.Session;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/**
 * The session messages: login and logout (also xapi's local sessions), this host and user, the
 * logged-in subjects, root's password. Who may call which is {@code rbac/Permissions}' to say; the
 * session's own fields ({@code get_rbac_permissions}, {@code get_is_local_superuser}, {@code
 * get_subject}, {@code get_auth_user_sid}, ...) are the generic getters of its record.
 */
@ApplicationScoped
public class SessionRpc implements RpcModule {
  @Inject Sessions sessions;

  @Override
  public void register(Dispatcher d) {
    d.register("session.login_with_password", -1, false, false, (ctx, a) -> sessions.login(a));
    d.register(
        "session.slave_local_login_with_password",
        2,
        false,
        false,
        (ctx, a) -> sessions.localLogin(a));
    d.register(
        "session.logout", 1, true, false, (ctx, a) -> none(() -> sessions.logout(ctx.session())));
    d.register(
        "session.local_logout",
        1,
        true,
        false,
        (ctx, a) -> none(() -> sessions.localLogout(ctx.session())));
    d.register(
        "session.get_this_host",
        2,
        true,
        false,
        (ctx, a) -> sessions.field(Params.str(a, 0), Session.THIS_HOST).value());
    d.register(
        "session.get_this_user",
        2,
        true,
        false,
        (ctx, a) -> sessions.field(Params.str(a, 0), Session.THIS_USER).value());
    d.register(
        "session.change_password",
        3,
        true,
        true,
        (ctx, a) -> none(() -> sessions.changePassword(ctx, Params.str(a, 1))));
    d.register(
        "session.get_all_subject_identifiers",
        1,
        true,
        false,
        (ctx, a) -> sessions.allSubjectIdentifiers());
    d.register(
        "session.logout_subject_identifier",
        2,
        true,
        true,
        (ctx, a) -> none(() -> sessions.logoutSubjectIdentifier(ctx, Params.str(a, 0))));
    d.register(
        "session.create_from_db_file",
        2,
        true,
        true,
        (ctx, a) -> {
          // xapi reads a database dump of its own into a read-only session; xsm's database is
          // not xapi's, so there is nothing such a session could show.
          String file = Params.str(a, 0);
          if (!Files.isReadable(Path.of(file))) {
            throw new XenApiException(
                XenApiError.INTERNAL_ERROR,
                "Unix.Unix_error(Unix.ENOENT, \"open\", \"" + file + "\")");
          }
          throw new XenApiException(XenApiError.NOT_IMPLEMENTED, "session.create_from_db_file");
        });
  }
}
