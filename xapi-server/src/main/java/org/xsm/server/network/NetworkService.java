package org.xsm.server.network;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.IpConfigurationMode;
import org.xsm.server.model.Ipv6ConfigurationMode;
import org.xsm.server.model.Network;
import org.xsm.server.model.Pif;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * Networks and PIFs as xapi keeps them. Guests use user-mode networking, so a PIF is a record of a
 * host interface (found by {@code PIF.scan}/{@code introduce} among the machine's real interfaces)
 * and a VLAN is a record on its own network; the checks and errors are xapi's.
 */
@ApplicationScoped
public class NetworkService {
  /** PIF properties xapi knows, with their allowed values. */
  private static final Map<String, Set<String>> PROPERTIES = Map.of("gro", Set.of("on", "off"));

  @Inject Database db;

  /** network.destroy: only a network no VIF or PIF uses. */
  public void destroy(Ref<Network> net) throws XenApiException {
    Row<Network> r = db.read(Network.CLASS, net);
    if (!r.get(Network.VIFS).isEmpty()) {
      throw new XenApiException(XenApiError.NETWORK_CONTAINS_VIF, refs(r.get(Network.VIFS)));
    }
    if (!r.get(Network.PIFS).isEmpty()) {
      throw new XenApiException(XenApiError.NETWORK_CONTAINS_PIF, refs(r.get(Network.PIFS)));
    }
    db.destroy(Network.CLASS, net);
  }

  private static List<String> refs(List<? extends Ref<?>> l) {
    List<String> out = new ArrayList<>();
    l.forEach(x -> out.add(x.value()));
    return out;
  }

  /** PIF.create_VLAN / pool.create_VLAN_from_PIF: a VLAN PIF on {@code network}. */
  public Ref<Pif> createVlan(Ref<Pif> tagged, Ref<Network> network, long tag)
      throws XenApiException {
    Row<Pif> base = db.read(Pif.CLASS, tagged);
    db.read(Network.CLASS, network);
    if (tag < 0 || tag > 4094) {
      throw new XenApiException(XenApiError.VLAN_TAG_INVALID, Long.toString(tag));
    }
    Ref<Host> host = base.get(Pif.HOST);
    for (Ref<Pif> p : db.get(host, Host.PIFS)) {
      Row<Pif> o = db.read(Pif.CLASS, p);
      if (o.get(Pif.VLAN) == tag && o.get(Pif.DEVICE).equals(base.get(Pif.DEVICE))) {
        throw new XenApiException(XenApiError.PIF_VLAN_EXISTS, o.get(Pif.DEVICE));
      }
    }
    return db.create(
        Pif.CLASS,
        Values.of(Pif.CLASS)
            .with(Pif.DEVICE, base.get(Pif.DEVICE))
            .with(Pif.NETWORK, network)
            .with(Pif.HOST, host)
            .with(Pif.MAC, base.get(Pif.MAC))
            .with(Pif.MTU, base.get(Pif.MTU))
            .with(Pif.VLAN, tag)
            .with(Pif.PHYSICAL, false)
            .with(Pif.CURRENTLY_ATTACHED, base.get(Pif.CURRENTLY_ATTACHED)));
  }

  /** The PIF of {@code host} on device {@code device} (untagged), or the null reference. */
  public Ref<Pif> physical(Ref<Host> host, String device) throws XenApiException {
    for (Ref<Pif> p : db.get(host, Host.PIFS)) {
      Row<Pif> r = db.read(Pif.CLASS, p);
      if (r.get(Pif.PHYSICAL) && r.get(Pif.DEVICE).equals(device)) {
        return p;
      }
    }
    return Ref.nullRef();
  }

  /** PIF.destroy: only VLAN PIFs; physical ones are forgotten instead. */
  public void destroyPif(Ref<Pif> pif) throws XenApiException {
    Row<Pif> r = db.read(Pif.CLASS, pif);
    if (r.get(Pif.PHYSICAL)) {
      throw new XenApiException(XenApiError.PIF_IS_PHYSICAL, pif.value());
    }
    notManagement(r);
    db.destroy(Pif.CLASS, pif);
  }

  /** PIF.forget: the record goes (not the interface). */
  public void forget(Ref<Pif> pif) throws XenApiException {
    notManagement(db.read(Pif.CLASS, pif));
    db.destroy(Pif.CLASS, pif);
  }

  private static void notManagement(Row<Pif> r) throws XenApiException {
    if (r.get(Pif.MANAGEMENT)) {
      throw new XenApiException(XenApiError.PIF_IS_MANAGEMENT_INTERFACE, r.ref().value());
    }
  }

  public void plug(Ref<Pif> pif, boolean up) throws XenApiException {
    Row<Pif> r = db.read(Pif.CLASS, pif);
    if (!up) {
      notManagement(r);
    }
    db.set(pif, Pif.CURRENTLY_ATTACHED, up);
  }

  public void reconfigureIp(
      Ref<Pif> pif, String mode, String ip, String netmask, String gateway, String dns)
      throws XenApiException {
    db.read(Pif.CLASS, pif);
    IpConfigurationMode m = parse(IpConfigurationMode.class, mode);
    db.update(
        Pif.CLASS,
        pif,
        Values.of(Pif.CLASS)
            .with(Pif.IP_CONFIGURATION_MODE, m)
            .with(Pif.IP, m == IpConfigurationMode.STATIC ? ip : "")
            .with(Pif.NETMASK, m == IpConfigurationMode.STATIC ? netmask : "")
            .with(Pif.GATEWAY, m == IpConfigurationMode.STATIC ? gateway : "")
            .with(Pif.DNS, m == IpConfigurationMode.STATIC ? dns : ""));
  }

  public void reconfigureIpv6(Ref<Pif> pif, String mode, String ip, String gateway, String dns)
      throws XenApiException {
    db.read(Pif.CLASS, pif);
    Ipv6ConfigurationMode m = parse(Ipv6ConfigurationMode.class, mode);
    db.update(
        Pif.CLASS,
        pif,
        Values.of(Pif.CLASS)
            .with(Pif.IPV6_CONFIGURATION_MODE, m)
            .with(Pif.IPV6, m == Ipv6ConfigurationMode.STATIC ? List.of(ip) : List.of())
            .with(Pif.IPV6_GATEWAY, m == Ipv6ConfigurationMode.STATIC ? gateway : "")
            .with(Pif.DNS, dns));
  }

  private static <E extends Enum<E> & org.xsm.server.model.WireEnum> E parse(
      Class<E> type, String wire) throws XenApiException {
    for (E e : type.getEnumConstants()) {
      if (e.wire().equalsIgnoreCase(wire)) {
        return e;
      }
    }
    throw new XenApiException(XenApiError.INVALID_VALUE, "mode", wire);
  }

  public void setProperty(Ref<Pif> pif, String name, String value) throws XenApiException {
    db.read(Pif.CLASS, pif);
    Set<String> allowed = PROPERTIES.get(name);
    if (allowed == null) {
      throw new XenApiException(XenApiError.INVALID_VALUE, name, value);
    }
    if (!allowed.contains(value)) {
      throw new XenApiException(XenApiError.INVALID_VALUE, name, value);
    }
    db.modify(
        Pif.CLASS,
        pif,
        r -> {
          Map<String, String> p = new java.util.LinkedHashMap<>(r.get(Pif.PROPERTIES));
          p.put(name, value);
          return Values.of(Pif.CLASS).with(Pif.PROPERTIES, p);
        });
  }

  /** PIF.introduce: a record for one of the machine's interfaces, with its own network. */
  public Ref<Pif> introduce(Ref<Host> host, String mac, String device, boolean managed)
      throws XenApiException {
    db.read(Host.CLASS, host);
    NetworkInterface nic = nic(device);
    if (nic == null) {
      throw new XenApiException(XenApiError.PIF_DEVICE_NOT_FOUND);
    }
    Ref<Pif> existing = physical(host, device);
    if (!existing.isNull()) {
      return existing;
    }
    Ref<Network> net =
        db.create(
            Network.CLASS,
            Values.of(Network.CLASS)
                .with(Network.NAME_LABEL, "Pool-wide network associated with " + device)
                .with(Network.BRIDGE, "xenbr-" + device));
    String realMac = mac == null || mac.isEmpty() ? macOf(nic) : mac;
    return db.create(
        Pif.CLASS,
        Values.of(Pif.CLASS)
            .with(Pif.DEVICE, device)
            .with(Pif.NETWORK, net)
            .with(Pif.HOST, host)
            .with(Pif.MAC, realMac)
            .with(Pif.MTU, (long) mtu(nic))
            .with(Pif.PHYSICAL, true)
            .with(Pif.MANAGED, managed));
  }

  /** PIF.scan: every interface of the machine that has no PIF yet gets one. */
  public void scan(Ref<Host> host) throws XenApiException {
    db.read(Host.CLASS, host);
    List<NetworkInterface> nics;
    try {
      nics = Collections.list(NetworkInterface.getNetworkInterfaces());
    } catch (SocketException e) {
      throw new XenApiException(XenApiError.INTERNAL_ERROR, "cannot list interfaces: " + e);
    }
    for (NetworkInterface nic : nics) {
      if (isLoopback(nic) || !physical(host, nic.getName()).isNull()) {
        continue;
      }
      introduce(host, "", nic.getName(), true);
    }
  }

  private static boolean isLoopback(NetworkInterface nic) {
    try {
      return nic.isLoopback();
    } catch (SocketException e) {
      return true;
    }
  }

  private static NetworkInterface nic(String device) {
    try {
      return NetworkInterface.getByName(device);
    } catch (SocketException e) {
      return null;
    }
  }

  private static String macOf(NetworkInterface nic) {
    try {
      byte[] b = nic.getHardwareAddress();
      return b == null ? "" : HexFormat.ofDelimiter(":").formatHex(b);
    } catch (SocketException e) {
      return "";
    }
  }

  private static int mtu(NetworkInterface nic) {
    try {
      return nic.getMTU();
    } catch (SocketException e) {
      return 1500;
    }
  }
}
