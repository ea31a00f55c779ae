package org.xsm.server.model;

/** The XenAPI enumeration of NetworkDefaultLockingMode (wire names as xapi sends them). */
public enum NetworkDefaultLockingMode implements WireEnum {
  UNLOCKED("unlocked"),
  DISABLED("disabled");

  private final String wire;

  NetworkDefaultLockingMode(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
