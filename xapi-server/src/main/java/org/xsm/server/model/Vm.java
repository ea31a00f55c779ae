package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The XenAPI class {@code VM}. */
public final class Vm {
  private Vm() {}

  public static final XClass<Vm> CLASS = new XClass<>("VM");
  public static final Field<Vm, String> UUID = CLASS.uuid();
  public static final Field<Vm, String> NAME_LABEL = CLASS.indexedString("name_label", RW);
  public static final Field<Vm, String> NAME_DESCRIPTION = CLASS.string("name_description", RW);
  public static final Field<Vm, PowerState> POWER_STATE =
      CLASS.enumeration("power_state", PowerState.class, RO, PowerState.HALTED);
  public static final Field<Vm, Long> USER_VERSION = CLASS.integer("user_version", RW, 1);
  public static final Field<Vm, Boolean> IS_A_TEMPLATE = CLASS.bool("is_a_template", RW);
  public static final Field<Vm, Boolean> IS_DEFAULT_TEMPLATE =
      CLASS.bool("is_default_template", RO);
  public static final Field<Vm, Ref<Vdi>> SUSPEND_VDI = CLASS.ref("suspend_VDI", "VDI", RO);
  public static final Field<Vm, Ref<Host>> RESIDENT_ON = CLASS.ref("resident_on", "host", RO);
  public static final Field<Vm, Ref<Host>> AFFINITY = CLASS.ref("affinity", "host", RW);
  public static final Field<Vm, Long> MEMORY_STATIC_MAX =
      CLASS.integer("memory_static_max", RO, 1L << 30);
  public static final Field<Vm, Long> MEMORY_DYNAMIC_MAX =
      CLASS.integer("memory_dynamic_max", RO, 1L << 30);
  public static final Field<Vm, Long> MEMORY_DYNAMIC_MIN =
      CLASS.integer("memory_dynamic_min", RO, 1L << 30);
  public static final Field<Vm, Long> MEMORY_STATIC_MIN =
      CLASS.integer("memory_static_min", RO, 1L << 30);
  public static final Field<Vm, Long> VCPUS_MAX = CLASS.integer("VCPUs_max", RO, 1);
  public static final Field<Vm, Long> VCPUS_AT_STARTUP = CLASS.integer("VCPUs_at_startup", RO, 1);
  public static final Field<Vm, OnNormalExit> ACTIONS_AFTER_SHUTDOWN =
      CLASS.enumeration("actions_after_shutdown", OnNormalExit.class, RW, OnNormalExit.DESTROY);
  public static final Field<Vm, OnNormalExit> ACTIONS_AFTER_REBOOT =
      CLASS.enumeration("actions_after_reboot", OnNormalExit.class, RW, OnNormalExit.RESTART);
  public static final Field<Vm, OnCrashBehaviour> ACTIONS_AFTER_CRASH =
      CLASS.enumeration(
          "actions_after_crash", OnCrashBehaviour.class, RW, OnCrashBehaviour.RESTART);
  public static final Field<Vm, List<Ref<Vbd>>> VBDS = CLASS.inverse("VBDs", "VBD", "VM");
  public static final Field<Vm, List<Ref<Vif>>> VIFS = CLASS.inverse("VIFs", "VIF", "VM");
  public static final Field<Vm, List<Ref<Vgpu>>> VGPUS = CLASS.inverse("VGPUs", "VGPU", "VM");
  public static final Field<Vm, String> PV_BOOTLOADER = CLASS.string("PV_bootloader", RW);
  public static final Field<Vm, String> HVM_BOOT_POLICY = CLASS.string("HVM_boot_policy", RW);
  public static final Field<Vm, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Vm, Map<String, String>> PLATFORM = CLASS.map("platform", RW);
  public static final Field<Vm, Map<String, String>> HVM_BOOT_PARAMS =
      CLASS.map("HVM_boot_params", RW);
  public static final Field<Vm, Map<String, String>> BLOCKED_OPERATIONS =
      CLASS.map("blocked_operations", RW);
  public static final Field<Vm, Map<String, String>> XENSTORE_DATA = CLASS.map("xenstore_data", RW);
  public static final Field<Vm, Long> DOMID = CLASS.integer("domid", RO, -1);
  public static final Field<Vm, Boolean> IS_CONTROL_DOMAIN = CLASS.bool("is_control_domain", RO);
  public static final Field<Vm, Boolean> IS_A_SNAPSHOT = CLASS.bool("is_a_snapshot", RO);
  public static final Field<Vm, Ref<Vm>> SNAPSHOT_OF = CLASS.ref("snapshot_of", "VM", RO);
  public static final Field<Vm, List<Ref<Vm>>> SNAPSHOTS =
      CLASS.inverse("snapshots", "VM", "snapshot_of");
  public static final Field<Vm, Instant> SNAPSHOT_TIME = CLASS.datetime("snapshot_time", RO);
  public static final Field<Vm, Map<String, String>> SNAPSHOT_INFO = CLASS.map("snapshot_info", RO);
  public static final Field<Vm, String> SNAPSHOT_METADATA = CLASS.string("snapshot_metadata", RO);
  public static final Field<Vm, String> TRANSPORTABLE_SNAPSHOT_ID =
      CLASS.string("transportable_snapshot_id", RO);
  public static final Field<Vm, Ref<Vm>> PARENT = CLASS.ref("parent", "VM", RO);
  public static final Field<Vm, List<Ref<Vm>>> CHILDREN = CLASS.inverse("children", "VM", "parent");
  public static final Field<Vm, List<String>> TAGS = CLASS.strings("tags", RW);
  public static final Field<Vm, List<String>> ALLOWED_OPERATIONS =
      CLASS.strings("allowed_operations", RO);
  public static final Field<Vm, Map<String, String>> CURRENT_OPERATIONS =
      CLASS.map("current_operations", RO);
  public static final Field<Vm, Ref<Sr>> SUSPEND_SR = CLASS.ref("suspend_SR", "SR", RW);
  public static final Field<Vm, String> GENERATION_ID = CLASS.string("generation_id", RO);
  public static final Field<Vm, Boolean> HAS_VENDOR_DEVICE = CLASS.bool("has_vendor_device", RO);
  public static final Field<Vm, Long> MEMORY_OVERHEAD = CLASS.integer("memory_overhead", RO);
  public static final Field<Vm, Long> MEMORY_TARGET = CLASS.integer("memory_target", RO);
  public static final Field<Vm, Map<String, String>> VCPUS_PARAMS = CLASS.map("VCPUs_params", RW);
  public static final Field<Vm, List<Ref<Console>>> CONSOLES =
      CLASS.inverse("consoles", "console", "VM");
  public static final Field<Vm, List<Ref<Unmodelled>>> VUSBS = CLASS.refs("VUSBs", "VUSB", RO);
  public static final Field<Vm, List<Ref<Unmodelled>>> CRASH_DUMPS =
      CLASS.refs("crash_dumps", "crashdump", RO);
  public static final Field<Vm, List<Ref<Vtpm>>> VTPMS = CLASS.inverse("VTPMs", "VTPM", "VM");
  public static final Field<Vm, String> PV_KERNEL = CLASS.string("PV_kernel", RW);
  public static final Field<Vm, String> PV_RAMDISK = CLASS.string("PV_ramdisk", RW);
  public static final Field<Vm, String> PV_ARGS = CLASS.string("PV_args", RW);
  public static final Field<Vm, String> PV_BOOTLOADER_ARGS = CLASS.string("PV_bootloader_args", RW);
  public static final Field<Vm, String> PV_LEGACY_ARGS = CLASS.string("PV_legacy_args", RW);
  public static final Field<Vm, Double> HVM_SHADOW_MULTIPLIER =
      CLASS.floating("HVM_shadow_multiplier", RW, 1.0);
  public static final Field<Vm, String> PCI_BUS = CLASS.string("PCI_bus", RW);
  public static final Field<Vm, String> DOMARCH = CLASS.string("domarch", RO);
  public static final Field<Vm, Map<String, String>> LAST_BOOT_CPU_FLAGS =
      CLASS.map("last_boot_CPU_flags", RO);
  public static final Field<Vm, Ref<VmMetrics>> METRICS = CLASS.ref("metrics", "VM_metrics", RO);
  public static final Field<Vm, Ref<VmGuestMetrics>> GUEST_METRICS =
      CLASS.ref("guest_metrics", "VM_guest_metrics", RO);
  public static final Field<Vm, String> LAST_BOOTED_RECORD = CLASS.string("last_booted_record", RO);
  public static final Field<Vm, String> RECOMMENDATIONS = CLASS.string("recommendations", RW);
  public static final Field<Vm, Boolean> HA_ALWAYS_RUN = CLASS.bool("ha_always_run", RW);
  public static final Field<Vm, String> HA_RESTART_PRIORITY =
      CLASS.string("ha_restart_priority", RW);
  public static final Field<Vm, Map<String, String>> BLOBS = CLASS.map("blobs", RO);
  public static final Field<Vm, Map<String, String>> BIOS_STRINGS = CLASS.map("bios_strings", RO);
  public static final Field<Vm, Ref<Unmodelled>> PROTECTION_POLICY =
      CLASS.ref("protection_policy", "VMPP", RW);
  public static final Field<Vm, Boolean> IS_SNAPSHOT_FROM_VMPP =
      CLASS.bool("is_snapshot_from_vmpp", RO);
  public static final Field<Vm, Ref<Unmodelled>> SNAPSHOT_SCHEDULE =
      CLASS.ref("snapshot_schedule", "VMSS", RW);
  public static final Field<Vm, Boolean> IS_VMSS_SNAPSHOT = CLASS.bool("is_vmss_snapshot", RO);
  public static final Field<Vm, Ref<Unmodelled>> APPLIANCE =
      CLASS.ref("appliance", "VM_appliance", RW);
  public static final Field<Vm, Long> START_DELAY = CLASS.integer("start_delay", RW);
  public static final Field<Vm, Long> SHUTDOWN_DELAY = CLASS.integer("shutdown_delay", RW);
  public static final Field<Vm, Long> ORDER = CLASS.integer("order", RW);
  public static final Field<Vm, List<Ref<Unmodelled>>> ATTACHED_PCIS =
      CLASS.refs("attached_PCIs", "PCI", RO);
  public static final Field<Vm, Long> VERSION = CLASS.integer("version", RO);
  public static final Field<Vm, Long> HARDWARE_PLATFORM_VERSION =
      CLASS.integer("hardware_platform_version", RW);
  public static final Field<Vm, Boolean> REQUIRES_REBOOT = CLASS.bool("requires_reboot", RO);
  public static final Field<Vm, String> REFERENCE_LABEL = CLASS.string("reference_label", RO);
  public static final Field<Vm, DomainType> DOMAIN_TYPE =
      CLASS.enumeration("domain_type", DomainType.class, RW, DomainType.HVM);
  public static final Field<Vm, Map<String, String>> NVRAM = CLASS.map("NVRAM", RW);
}
