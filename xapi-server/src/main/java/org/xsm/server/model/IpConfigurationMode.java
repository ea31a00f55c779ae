package org.xsm.server.model;

/** The XenAPI enumeration of IpConfigurationMode (wire names as xapi sends them). */
public enum IpConfigurationMode implements WireEnum {
  NONE("None"),
  DHCP("DHCP"),
  STATIC("Static");

  private final String wire;

  IpConfigurationMode(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
