package org.xsm.server.session;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.xsm.server.model.Session;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/** The session messages: login, logout, this host and user. */
@ApplicationScoped
public class SessionRpc implements RpcModule {
  @Inject Sessions sessions;

  @Override
  public void register(Dispatcher d) {
    d.register("session.login_with_password", -1, false, false, (ctx, a) -> sessions.login(a));
    d.register(
        "session.logout", 1, true, false, (ctx, a) -> none(() -> sessions.logout(ctx.session())));
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
  }
}
