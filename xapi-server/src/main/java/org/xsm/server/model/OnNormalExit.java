package org.xsm.server.model;

/** VM actions after shutdown or reboot (on_normal_exit). */
public enum OnNormalExit implements WireEnum {
  DESTROY("destroy"),
  RESTART("restart");

  private final String wire;

  OnNormalExit(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
