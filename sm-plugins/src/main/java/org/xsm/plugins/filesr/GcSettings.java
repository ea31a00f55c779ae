package org.xsm.plugins.filesr;

import java.util.List;
import java.util.Map;
import org.xsm.api.ConfigKey;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SrConfig;

/**
 * How an SR's garbage collector is scheduled and throttled, from the SR's {@code other_config} (or,
 * for the rate, its {@code device_config}; {@code other_config} wins).
 *
 * @param enabled {@code gc=false} turns the background collector off
 * @param delayMillis {@code gc-quiet-period-ms}: how long after the first request (a VDI delete, a
 *     scan, leftover work) a pass starts. Later requests never push it back, so a busy SR is
 *     collected as surely as an idle one
 * @param retryMillis how soon a pass follows one that left work it could not do yet (a leaf written
 *     faster than it could be copied, a VDI changed under it, no space, an error)
 * @param rateBytesPerSecond {@code gc-rate-mib}: copy rate of coalesces, in MiB/s (0: unlimited).
 *     While the SR's disks do I/O the collector copies at a quarter of it
 */
public record GcSettings(
    boolean enabled, long delayMillis, long retryMillis, long rateBytesPerSecond) {
  static final long DEFAULT_DELAY_MS = 1000;
  static final long DEFAULT_RETRY_MS = 10_000;
  static final long DEFAULT_RATE_MIB = 64;
  private static final long MIB = 1024L * 1024;

  /** The collector's keys, for drivers' {@code DriverInfo} configuration lists. */
  public static final List<ConfigKey> CONFIG_KEYS =
      List.of(
          new ConfigKey(
              "gc-rate-mib",
              "Garbage collector copy rate in MiB/s (default "
                  + DEFAULT_RATE_MIB
                  + ", 0 = unlimited); while the SR's VDIs do I/O the collector copies at a"
                  + " quarter of it. Also read from other_config, which wins",
              false));

  /** The defaults: enabled, 1 s delay, 64 MiB/s. */
  public static final GcSettings DEFAULTS =
      new GcSettings(true, DEFAULT_DELAY_MS, DEFAULT_RETRY_MS, DEFAULT_RATE_MIB * MIB);

  /** The settings of an SR being attached. */
  static GcSettings of(SrConfig config) throws SmException {
    return of(config.deviceConfig(), config.otherConfig());
  }

  static GcSettings of(Map<String, String> deviceConfig, Map<String, String> otherConfig)
      throws SmException {
    boolean enabled = !"false".equalsIgnoreCase(otherConfig.getOrDefault("gc", "true"));
    long delay = number(otherConfig, "gc-quiet-period-ms", DEFAULT_DELAY_MS);
    String rateKey = "gc-rate-mib";
    long rateMib =
        otherConfig.containsKey(rateKey)
            ? number(otherConfig, rateKey, DEFAULT_RATE_MIB)
            : number(deviceConfig, rateKey, DEFAULT_RATE_MIB);
    return new GcSettings(enabled, delay, DEFAULT_RETRY_MS, rateMib * MIB);
  }

  private static long number(Map<String, String> m, String key, long dflt) throws SmException {
    String v = m.get(key);
    if (v == null || v.isBlank()) {
      return dflt;
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n < 0) {
        throw new NumberFormatException("negative");
      }
      return n;
    } catch (NumberFormatException e) {
      throw new SmException(
          SmError.BAD_REQUEST, key + " must be a whole number >= 0, not '" + v + "'", e);
    }
  }
}
