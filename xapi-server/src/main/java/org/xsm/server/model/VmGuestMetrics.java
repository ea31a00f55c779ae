package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.time.Instant;
import java.util.Map;

/** The XenAPI class {@code VM_guest_metrics}. */
public final class VmGuestMetrics {
  private VmGuestMetrics() {}

  public static final XClass<VmGuestMetrics> CLASS = new XClass<>("VM_guest_metrics");
  public static final Field<VmGuestMetrics, String> UUID = CLASS.uuid();
  public static final Field<VmGuestMetrics, Map<String, String>> OS_VERSION =
      CLASS.map("os_version", RO);
  public static final Field<VmGuestMetrics, Map<String, String>> PV_DRIVERS_VERSION =
      CLASS.map("PV_drivers_version", RO);
  public static final Field<VmGuestMetrics, Boolean> PV_DRIVERS_UP_TO_DATE =
      CLASS.bool("PV_drivers_up_to_date", RO);
  public static final Field<VmGuestMetrics, Map<String, String>> MEMORY = CLASS.map("memory", RO);
  public static final Field<VmGuestMetrics, Map<String, String>> DISKS = CLASS.map("disks", RO);
  public static final Field<VmGuestMetrics, Map<String, String>> NETWORKS =
      CLASS.map("networks", RO);
  public static final Field<VmGuestMetrics, Map<String, String>> OTHER = CLASS.map("other", RO);
  public static final Field<VmGuestMetrics, Instant> LAST_UPDATED =
      CLASS.datetime("last_updated", RO);
  public static final Field<VmGuestMetrics, Map<String, String>> OTHER_CONFIG =
      CLASS.map("other_config", RW);
  public static final Field<VmGuestMetrics, Boolean> LIVE = CLASS.bool("live", RO);
  public static final Field<VmGuestMetrics, TristateType> CAN_USE_HOTPLUG_VBD =
      CLASS.enumeration("can_use_hotplug_vbd", TristateType.class, RO, TristateType.UNSPECIFIED);
  public static final Field<VmGuestMetrics, TristateType> CAN_USE_HOTPLUG_VIF =
      CLASS.enumeration("can_use_hotplug_vif", TristateType.class, RO, TristateType.UNSPECIFIED);
  public static final Field<VmGuestMetrics, Boolean> PV_DRIVERS_DETECTED =
      CLASS.bool("PV_drivers_detected", RO);
}
