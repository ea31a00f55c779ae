package org.xsm.server.model;

/** VM actions after a crash (on_crash_behaviour). */
public enum OnCrashBehaviour implements WireEnum {
  DESTROY("destroy"),
  COREDUMP_AND_DESTROY("coredump_and_destroy"),
  RESTART("restart"),
  COREDUMP_AND_RESTART("coredump_and_restart"),
  PRESERVE("preserve"),
  RENAME_RESTART("rename_restart");

  private final String wire;

  OnCrashBehaviour(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
