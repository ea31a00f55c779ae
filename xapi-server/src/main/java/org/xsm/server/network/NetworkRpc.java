package org.xsm.server.network;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.Network;
import org.xsm.server.model.Pif;
import org.xsm.server.model.Ref;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.WireValues;

/** network and PIF messages: wire parameters to {@link NetworkService} calls. */
@ApplicationScoped
public class NetworkRpc implements RpcModule {
  @Inject NetworkService networks;
  @Inject Database db;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "network.create",
        2,
        true,
        true,
        (c, a) ->
            db.create(
                    Network.CLASS,
                    WireValues.fromRecord(Network.CLASS, Params.map(a.get(0), "args")))
                .value());
    d.register(
        "network.destroy", 2, true, true, (c, a) -> none(() -> networks.destroy(Params.ref(a, 0))));
    d.register(
        "PIF.create_VLAN",
        5,
        true,
        true,
        (c, a) -> {
          String device = Params.str(a, 0);
          Ref<Network> net = Params.ref(a, 1);
          Ref<Host> host = Params.ref(a, 2);
          db.read(Host.CLASS, host);
          Ref<Pif> base = networks.physical(host, device);
          if (base.isNull()) {
            throw new XenApiException(XenApiError.PIF_DEVICE_NOT_FOUND);
          }
          return networks.createVlan(base, net, Params.lng(a.get(3), "VLAN")).value();
        });
    d.register(
        "pool.create_VLAN_from_PIF",
        4,
        true,
        true,
        (c, a) ->
            List.of(
                networks
                    .createVlan(Params.ref(a, 0), Params.ref(a, 1), Params.lng(a.get(2), "VLAN"))
                    .value()));
    d.register(
        "pool.create_VLAN",
        4,
        true,
        true,
        (c, a) -> {
          String device = Params.str(a, 0);
          Ref<Network> net = Params.ref(a, 1);
          List<String> out = new java.util.ArrayList<>();
          for (Ref<Host> h : db.all(Host.CLASS)) {
            Ref<Pif> base = networks.physical(h, device);
            if (base.isNull()) {
              throw new XenApiException(XenApiError.PIF_DEVICE_NOT_FOUND);
            }
            out.add(networks.createVlan(base, net, Params.lng(a.get(2), "VLAN")).value());
          }
          return out;
        });
    d.register(
        "PIF.destroy", 2, true, true, (c, a) -> none(() -> networks.destroyPif(Params.ref(a, 0))));
    d.register(
        "PIF.forget", 2, true, true, (c, a) -> none(() -> networks.forget(Params.ref(a, 0))));
    d.register(
        "PIF.db_forget", 2, true, true, (c, a) -> none(() -> networks.forget(Params.ref(a, 0))));
    d.register(
        "PIF.plug", 2, true, true, (c, a) -> none(() -> networks.plug(Params.ref(a, 0), true)));
    d.register(
        "PIF.unplug", 2, true, true, (c, a) -> none(() -> networks.plug(Params.ref(a, 0), false)));
    d.register(
        "PIF.reconfigure_ip",
        7,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    networks.reconfigureIp(
                        Params.ref(a, 0),
                        Params.str(a, 1),
                        Params.str(a, 2),
                        Params.str(a, 3),
                        Params.str(a, 4),
                        Params.str(a, 5))));
    d.register(
        "PIF.reconfigure_ipv6",
        6,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    networks.reconfigureIpv6(
                        Params.ref(a, 0),
                        Params.str(a, 1),
                        Params.str(a, 2),
                        Params.str(a, 3),
                        Params.str(a, 4))));
    d.register(
        "PIF.set_property",
        4,
        true,
        true,
        (c, a) ->
            none(() -> networks.setProperty(Params.ref(a, 0), Params.str(a, 1), Params.str(a, 2))));
    d.register("PIF.scan", 2, true, true, (c, a) -> none(() -> networks.scan(Params.ref(a, 0))));
    d.register(
        "PIF.introduce",
        5,
        true,
        true,
        (c, a) ->
            networks
                .introduce(
                    Params.ref(a, 0),
                    Params.str(a, 1),
                    Params.str(a, 2),
                    Params.bool(a.get(3), "managed"))
                .value());
    d.register(
        "PIF.db_introduce",
        -1,
        true,
        true,
        (c, a) -> {
          // device, network, host, MAC, MTU, VLAN, physical, ip_configuration_mode, IP, netmask,
          // gateway, DNS, bond_slave_of, VLAN_master_of, management, other_config,
          // disallow_unplug (+ IPv6 fields and managed in newer APIs): the record as given.
          if (a.size() < 17) {
            throw new XenApiException(
                XenApiError.MESSAGE_PARAMETER_COUNT_MISMATCH,
                "PIF.db_introduce",
                "17",
                Integer.toString(a.size()));
          }
          Ref<Network> net = Params.ref(a, 1);
          Ref<Host> host = Params.ref(a, 2);
          db.read(Network.CLASS, net);
          db.read(Host.CLASS, host);
          return db.create(
                  Pif.CLASS,
                  org.xsm.server.model.Values.of(Pif.CLASS)
                      .with(Pif.DEVICE, Params.str(a, 0))
                      .with(Pif.NETWORK, net)
                      .with(Pif.HOST, host)
                      .with(Pif.MAC, Params.str(a, 3))
                      .with(Pif.MTU, Params.lng(a.get(4), "MTU"))
                      .with(Pif.VLAN, Params.lng(a.get(5), "VLAN"))
                      .with(Pif.PHYSICAL, Params.bool(a.get(6), "physical"))
                      .with(Pif.IP, Params.str(a, 8))
                      .with(Pif.NETMASK, Params.str(a, 9))
                      .with(Pif.GATEWAY, Params.str(a, 10))
                      .with(Pif.DNS, Params.str(a, 11))
                      .with(Pif.MANAGEMENT, Params.bool(a.get(14), "management"))
                      .with(Pif.OTHER_CONFIG, Params.stringMap(a.get(15), "other_config"))
                      .with(Pif.DISALLOW_UNPLUG, Params.bool(a.get(16), "disallow_unplug")))
              .value();
        });
  }
}
