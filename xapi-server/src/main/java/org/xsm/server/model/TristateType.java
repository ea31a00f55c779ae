package org.xsm.server.model;

/** The XenAPI enumeration of TristateType (wire names as xapi sends them). */
public enum TristateType implements WireEnum {
  YES("yes"),
  NO("no"),
  UNSPECIFIED("unspecified");

  private final String wire;

  TristateType(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
