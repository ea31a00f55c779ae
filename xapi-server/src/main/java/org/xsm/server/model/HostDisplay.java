package org.xsm.server.model;

/** The XenAPI enumeration of HostDisplay (wire names as xapi sends them). */
public enum HostDisplay implements WireEnum {
  ENABLED("enabled"),
  DISABLE_ON_REBOOT("disable_on_reboot"),
  DISABLED("disabled"),
  ENABLE_ON_REBOOT("enable_on_reboot");

  private final String wire;

  HostDisplay(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
