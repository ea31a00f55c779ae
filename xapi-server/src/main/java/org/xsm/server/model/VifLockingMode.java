package org.xsm.server.model;

/** The XenAPI enumeration of VifLockingMode (wire names as xapi sends them). */
public enum VifLockingMode implements WireEnum {
  NETWORK_DEFAULT("network_default"),
  LOCKED("locked"),
  UNLOCKED("unlocked"),
  DISABLED("disabled");

  private final String wire;

  VifLockingMode(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
