package org.xsm.server.model;

/** What a VDI does at VM start (on_boot). */
public enum OnBoot implements WireEnum {
  RESET("reset"),
  PERSIST("persist");

  private final String wire;

  OnBoot(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
