package org.xsm.server.model;

/** The XenAPI enumeration of Ipv6ConfigurationMode (wire names as xapi sends them). */
public enum Ipv6ConfigurationMode implements WireEnum {
  NONE("None"),
  DHCP("DHCP"),
  STATIC("Static"),
  AUTOCONF("Autoconf");

  private final String wire;

  Ipv6ConfigurationMode(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
