package org.xsm.server.model;

/** VBD types (vbd_type). */
public enum VbdType implements WireEnum {
  CD("CD"),
  DISK("Disk"),
  FLOPPY("Floppy");

  private final String wire;

  VbdType(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
