package org.xsm.server.model;

/** VDI types (vdi_type). */
public enum VdiType implements WireEnum {
  SYSTEM("system"),
  USER("user"),
  EPHEMERAL("ephemeral"),
  SUSPEND("suspend"),
  CRASHDUMP("crashdump"),
  HA_STATEFILE("ha_statefile"),
  METADATA("metadata"),
  REDO_LOG("redo_log"),
  RRD("rrd"),
  PVS_CACHE("pvs_cache"),
  CBT_METADATA("cbt_metadata");

  private final String wire;

  VdiType(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
