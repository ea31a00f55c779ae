package org.xsm.server.host;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.Ref;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/**
 * The host's clock: {@code host.get_servertime} (UTC, {@code 20261207T09:01:15Z}) and {@code
 * host.get_server_localtime} (the host's local time, without a zone), as xapi answers them. Xen
 * Orchestra reads the first to ask {@code /rrd_updates} for the right window.
 */
@ApplicationScoped
public class HostClockRpc implements RpcModule {
  @Inject Database db;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "host.get_servertime",
        2,
        true,
        false,
        (ctx, a) -> {
          host(Params.str(a, 0));
          return Instant.now();
        });
    d.register(
        "host.get_server_localtime",
        2,
        true,
        false,
        (ctx, a) -> {
          host(Params.str(a, 0));
          return LocalDateTime.now(ZoneId.systemDefault());
        });
  }

  private void host(String ref) throws XenApiException {
    if (!db.exists(Host.CLASS, Ref.of(ref))) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "host", ref);
    }
  }
}
