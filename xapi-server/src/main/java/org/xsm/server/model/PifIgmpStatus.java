package org.xsm.server.model;

/** The XenAPI enumeration of PifIgmpStatus (wire names as xapi sends them). */
public enum PifIgmpStatus implements WireEnum {
  ENABLED("enabled"),
  DISABLED("disabled"),
  UNKNOWN("unknown");

  private final String wire;

  PifIgmpStatus(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
