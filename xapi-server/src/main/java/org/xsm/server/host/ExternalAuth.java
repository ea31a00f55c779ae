package org.xsm.server.host;

import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;

/**
 * External authentication (AD, LDAP) as xapi answers without an auth plugin: no auth type is known,
 * and it is never enabled. The pool and the host both have the pair of messages.
 */
final class ExternalAuth {
  private ExternalAuth() {}

  /** {@code <cls>.enable_external_auth} and {@code disable_external_auth}. */
  static <C> void register(Dispatcher d, Database db, XClass<C> cls) {
    d.register(
        cls.name() + ".enable_external_auth",
        5, // self, config, service_name, auth_type
        true,
        true,
        (c, a) -> {
          db.read(cls, Params.<C>ref(a, 0));
          throw new XenApiException(XenApiError.AUTH_UNKNOWN_TYPE, Params.str(a, 3));
        });
    d.register(
        cls.name() + ".disable_external_auth",
        3, // self, config
        true,
        true,
        (c, a) -> {
          Ref<C> self = Params.ref(a, 0);
          db.read(cls, self);
          throw new XenApiException(XenApiError.AUTH_IS_DISABLED);
        });
  }
}
