package org.xsm.server.model;

/** The XenAPI enumeration of PrimaryAddressType (wire names as xapi sends them). */
public enum PrimaryAddressType implements WireEnum {
  IPV4("IPv4"),
  IPV6("IPv6");

  private final String wire;

  PrimaryAddressType(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
