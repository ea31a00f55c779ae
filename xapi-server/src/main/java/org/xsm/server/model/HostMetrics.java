package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.time.Instant;
import java.util.Map;

/** The XenAPI class {@code host_metrics}. */
public final class HostMetrics {
  private HostMetrics() {}

  public static final XClass<HostMetrics> CLASS = new XClass<>("host_metrics");
  public static final Field<HostMetrics, String> UUID = CLASS.uuid();
  public static final Field<HostMetrics, Long> MEMORY_TOTAL = CLASS.integer("memory_total", RO);
  public static final Field<HostMetrics, Long> MEMORY_FREE = CLASS.integer("memory_free", RO);
  public static final Field<HostMetrics, Boolean> LIVE = CLASS.bool("live", RO);
  public static final Field<HostMetrics, Instant> LAST_UPDATED = CLASS.datetime("last_updated", RO);
  public static final Field<HostMetrics, Map<String, String>> OTHER_CONFIG =
      CLASS.map("other_config", RW);
}
