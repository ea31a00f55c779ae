package org.xsm.server.model;

/** Task states (task_status_type). */
public enum TaskStatus implements WireEnum {
  PENDING("pending"),
  SUCCESS("success"),
  FAILURE("failure"),
  CANCELLING("cancelling"),
  CANCELLED("cancelled");

  private final String wire;

  TaskStatus(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
