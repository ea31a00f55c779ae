package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The XenAPI class {@code VM_metrics}. */
public final class VmMetrics {
  private VmMetrics() {}

  public static final XClass<VmMetrics> CLASS = new XClass<>("VM_metrics");
  public static final Field<VmMetrics, String> UUID = CLASS.uuid();
  public static final Field<VmMetrics, Long> MEMORY_ACTUAL = CLASS.integer("memory_actual", RO);
  public static final Field<VmMetrics, Long> VCPUS_NUMBER = CLASS.integer("VCPUs_number", RO);
  public static final Field<VmMetrics, Map<String, String>> VCPUS_UTILISATION =
      CLASS.map("VCPUs_utilisation", RO);
  public static final Field<VmMetrics, Map<String, String>> VCPUS_CPU = CLASS.map("VCPUs_CPU", RO);
  public static final Field<VmMetrics, Map<String, String>> VCPUS_PARAMS =
      CLASS.map("VCPUs_params", RO);
  public static final Field<VmMetrics, Map<String, String>> VCPUS_FLAGS =
      CLASS.map("VCPUs_flags", RO);
  public static final Field<VmMetrics, List<String>> STATE = CLASS.strings("state", RO);
  public static final Field<VmMetrics, Instant> START_TIME = CLASS.datetime("start_time", RO);
  public static final Field<VmMetrics, Instant> INSTALL_TIME = CLASS.datetime("install_time", RO);
  public static final Field<VmMetrics, Instant> LAST_UPDATED = CLASS.datetime("last_updated", RO);
  public static final Field<VmMetrics, Map<String, String>> OTHER_CONFIG =
      CLASS.map("other_config", RW);
  public static final Field<VmMetrics, Boolean> HVM = CLASS.bool("hvm", RO);
  public static final Field<VmMetrics, Boolean> NESTED_VIRT = CLASS.bool("nested_virt", RO);
  public static final Field<VmMetrics, Boolean> NOMIGRATE = CLASS.bool("nomigrate", RO);
  public static final Field<VmMetrics, DomainType> CURRENT_DOMAIN_TYPE =
      CLASS.enumeration("current_domain_type", DomainType.class, RO, DomainType.HVM);
}
