package org.xsm.api;

import java.util.List;
import java.util.Set;

/**
 * A driver's description of itself, as data (xapi's {@code DRIVER_INFO}).
 *
 * @param type the SR type it serves ({@code ext}, {@code nfs}, {@code iscsi}); lower case
 * @param name a short human name
 * @param requiredApiVersion the SPI version it was written for ({@link SmDriver#API_VERSION})
 * @param capabilities what it implements; everything else fails with {@link SmError#UNIMPLEMENTED}
 * @param configuration the {@code device_config} keys it understands
 * @param supportedImageFormats e.g. {@code vhd}
 */
public record DriverInfo(
    String type,
    String name,
    String description,
    String vendor,
    String copyright,
    String driverVersion,
    String requiredApiVersion,
    Set<Capability> capabilities,
    List<ConfigKey> configuration,
    List<String> supportedImageFormats) {

  public DriverInfo {
    capabilities = Set.copyOf(capabilities);
    configuration = List.copyOf(configuration);
    supportedImageFormats = List.copyOf(supportedImageFormats);
  }

  public boolean has(Capability c) {
    return capabilities.contains(c);
  }
}
