package org.xsm.server.model;

/** The XenAPI enumeration of VifIpv4ConfigurationMode (wire names as xapi sends them). */
public enum VifIpv4ConfigurationMode implements WireEnum {
  NONE("None"),
  STATIC("Static");

  private final String wire;

  VifIpv4ConfigurationMode(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
