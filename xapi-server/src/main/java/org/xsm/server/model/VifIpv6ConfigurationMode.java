package org.xsm.server.model;

/** The XenAPI enumeration of VifIpv6ConfigurationMode (wire names as xapi sends them). */
public enum VifIpv6ConfigurationMode implements WireEnum {
  NONE("None"),
  STATIC("Static");

  private final String wire;

  VifIpv6ConfigurationMode(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
