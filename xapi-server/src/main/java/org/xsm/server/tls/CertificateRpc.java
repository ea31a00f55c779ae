package org.xsm.server.tls;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/** {@code host.get_server_certificate} and {@code host.install_server_certificate}. */
@ApplicationScoped
public class CertificateRpc implements RpcModule {
  @Inject Database db;
  @Inject HostCertificate certificate;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "host.get_server_certificate",
        2,
        true,
        false,
        (c, a) -> {
          db.read(Host.CLASS, Params.ref(a, 0));
          return certificate.identity().certPem();
        });
    d.register(
        "host.install_server_certificate",
        5, // host, certificate, private_key, certificate_chain
        true,
        true,
        (c, a) -> {
          db.read(Host.CLASS, Params.ref(a, 0));
          return none(
              () -> certificate.install(Params.str(a, 1), Params.str(a, 2), Params.str(a, 3)));
        });
  }
}
