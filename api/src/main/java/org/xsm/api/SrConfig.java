package org.xsm.api;

import java.util.Map;

/**
 * What identifies an SR to its driver: its UUID, the PBD's {@code device_config} (e.g. {@code path}
 * for EXT, {@code server} and {@code serverpath} for NFS), and the SR's {@code other_config} (e.g.
 * {@code gc=false} turns the garbage collector off).
 */
public record SrConfig(
    String srUuid, Map<String, String> deviceConfig, Map<String, String> otherConfig) {
  public SrConfig {
    deviceConfig = Map.copyOf(deviceConfig);
    otherConfig = Map.copyOf(otherConfig);
  }

  /** A configuration with an empty {@code other_config}. */
  public SrConfig(String srUuid, Map<String, String> deviceConfig) {
    this(srUuid, deviceConfig, Map.of());
  }

  /**
   * A required {@code device_config} value.
   *
   * @throws SmException {@link SmError#BAD_REQUEST} naming the key if it is missing or empty
   */
  public String require(String key) throws SmException {
    String v = deviceConfig.get(key);
    if (v == null || v.isBlank()) {
      throw new SmException(SmError.BAD_REQUEST, "device_config:" + key + " is required");
    }
    return v;
  }
}
