package org.xsm.server.model;

/** The XenAPI enumeration of DomainType (wire names as xapi sends them). */
public enum DomainType implements WireEnum {
  HVM("hvm"),
  PV("pv"),
  PV_IN_PVH("pv_in_pvh"),
  UNSPECIFIED("unspecified");

  private final String wire;

  DomainType(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
