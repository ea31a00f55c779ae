package org.xsm.server.model;

/** VBD modes (vbd_mode). */
public enum VbdMode implements WireEnum {
  RO("RO"),
  RW("RW");

  private final String wire;

  VbdMode(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
