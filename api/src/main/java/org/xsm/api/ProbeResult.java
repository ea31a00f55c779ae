package org.xsm.api;

import java.util.Map;

/** An SR found by {@link SmDriver#probe}: its UUID and what the driver knows of it. */
public record ProbeResult(String srUuid, Map<String, String> details) {
  public ProbeResult {
    details = Map.copyOf(details);
  }
}
