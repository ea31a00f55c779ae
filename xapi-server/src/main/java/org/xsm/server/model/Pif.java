package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code PIF}. */
public final class Pif {
  private Pif() {}

  public static final XClass<Pif> CLASS = new XClass<>("PIF");
  public static final Field<Pif, String> UUID = CLASS.uuid();
  public static final Field<Pif, String> DEVICE = CLASS.string("device", RO);
  public static final Field<Pif, Ref<Network>> NETWORK = CLASS.ref("network", "network", RO);
  public static final Field<Pif, Ref<Host>> HOST = CLASS.ref("host", "host", RO);
  public static final Field<Pif, String> MAC = CLASS.string("MAC", RO);
  public static final Field<Pif, Long> MTU = CLASS.integer("MTU", RO, 1500);
  public static final Field<Pif, Long> VLAN = CLASS.integer("VLAN", RO, -1);
  public static final Field<Pif, Ref<Unmodelled>> METRICS = CLASS.ref("metrics", "PIF_metrics", RO);
  public static final Field<Pif, Boolean> PHYSICAL = CLASS.bool("physical", RO);
  public static final Field<Pif, Boolean> CURRENTLY_ATTACHED = CLASS.bool("currently_attached", RO);
  public static final Field<Pif, IpConfigurationMode> IP_CONFIGURATION_MODE =
      CLASS.enumeration(
          "ip_configuration_mode", IpConfigurationMode.class, RO, IpConfigurationMode.NONE);
  public static final Field<Pif, String> IP = CLASS.string("IP", RO);
  public static final Field<Pif, String> NETMASK = CLASS.string("netmask", RO);
  public static final Field<Pif, String> GATEWAY = CLASS.string("gateway", RO);
  public static final Field<Pif, String> DNS = CLASS.string("DNS", RO);
  public static final Field<Pif, Ref<Unmodelled>> BOND_SLAVE_OF =
      CLASS.ref("bond_slave_of", "Bond", RO);
  public static final Field<Pif, List<Ref<Unmodelled>>> BOND_MASTER_OF =
      CLASS.refs("bond_master_of", "Bond", RO);
  public static final Field<Pif, Ref<Unmodelled>> VLAN_MASTER_OF =
      CLASS.ref("VLAN_master_of", "VLAN", RO);
  public static final Field<Pif, List<Ref<Unmodelled>>> VLAN_SLAVE_OF =
      CLASS.refs("VLAN_slave_of", "VLAN", RO);
  public static final Field<Pif, Boolean> MANAGEMENT = CLASS.bool("management", RO);
  public static final Field<Pif, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Pif, Boolean> DISALLOW_UNPLUG = CLASS.bool("disallow_unplug", RW);
  public static final Field<Pif, List<Ref<Unmodelled>>> TUNNEL_ACCESS_PIF_OF =
      CLASS.refs("tunnel_access_PIF_of", "tunnel", RO);
  public static final Field<Pif, List<Ref<Unmodelled>>> TUNNEL_TRANSPORT_PIF_OF =
      CLASS.refs("tunnel_transport_PIF_of", "tunnel", RO);
  public static final Field<Pif, Ipv6ConfigurationMode> IPV6_CONFIGURATION_MODE =
      CLASS.enumeration(
          "ipv6_configuration_mode", Ipv6ConfigurationMode.class, RO, Ipv6ConfigurationMode.NONE);
  public static final Field<Pif, List<String>> IPV6 = CLASS.strings("IPv6", RO);
  public static final Field<Pif, String> IPV6_GATEWAY = CLASS.string("ipv6_gateway", RO);
  public static final Field<Pif, PrimaryAddressType> PRIMARY_ADDRESS_TYPE =
      CLASS.enumeration(
          "primary_address_type", PrimaryAddressType.class, RW, PrimaryAddressType.IPV4);
  public static final Field<Pif, Boolean> MANAGED = CLASS.bool("managed", RO, true);
  public static final Field<Pif, Map<String, String>> PROPERTIES = CLASS.map("properties", RO);
  public static final Field<Pif, List<String>> CAPABILITIES = CLASS.strings("capabilities", RO);
  public static final Field<Pif, PifIgmpStatus> IGMP_SNOOPING_STATUS =
      CLASS.enumeration("igmp_snooping_status", PifIgmpStatus.class, RO, PifIgmpStatus.UNKNOWN);
  public static final Field<Pif, List<Ref<Unmodelled>>> SRIOV_PHYSICAL_PIF_OF =
      CLASS.refs("sriov_physical_PIF_of", "network_sriov", RO);
  public static final Field<Pif, List<Ref<Unmodelled>>> SRIOV_LOGICAL_PIF_OF =
      CLASS.refs("sriov_logical_PIF_of", "network_sriov", RO);
  public static final Field<Pif, Ref<Unmodelled>> PCI = CLASS.ref("PCI", "PCI", RO);
}
