package org.xsm.server.model;

/** VM power states (vm_power_state). */
public enum PowerState implements WireEnum {
  HALTED("Halted"),
  PAUSED("Paused"),
  RUNNING("Running"),
  SUSPENDED("Suspended");

  private final String wire;

  PowerState(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
