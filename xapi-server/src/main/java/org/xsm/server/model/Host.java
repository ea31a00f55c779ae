package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code host}. */
public final class Host {
  private Host() {}

  public static final XClass<Host> CLASS = new XClass<>("host");
  public static final Field<Host, String> UUID = CLASS.uuid();
  public static final Field<Host, String> NAME_LABEL = CLASS.indexedString("name_label", RW);
  public static final Field<Host, String> NAME_DESCRIPTION = CLASS.string("name_description", RW);
  public static final Field<Host, String> HOSTNAME = CLASS.string("hostname", RW);
  public static final Field<Host, String> ADDRESS = CLASS.string("address", RO);
  public static final Field<Host, Boolean> ENABLED = CLASS.bool("enabled", RO, true);
  public static final Field<Host, Long> API_VERSION_MAJOR =
      CLASS.integer("API_version_major", RO, 2);
  public static final Field<Host, Long> API_VERSION_MINOR =
      CLASS.integer("API_version_minor", RO, 21);
  public static final Field<Host, String> API_VERSION_VENDOR =
      CLASS.string("API_version_vendor", RO, "xsm");
  public static final Field<Host, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Host, Map<String, String>> SOFTWARE_VERSION =
      CLASS.map("software_version", RO);
  public static final Field<Host, List<Ref<Pbd>>> PBDS = CLASS.inverse("PBDs", "PBD", "host");
  public static final Field<Host, List<Ref<Vm>>> RESIDENT_VMS =
      CLASS.inverse("resident_VMs", "VM", "resident_on");
  public static final Field<Host, List<String>> TAGS = CLASS.strings("tags", RW);
  public static final Field<Host, Long> MEMORY_OVERHEAD = CLASS.integer("memory_overhead", RO);
  public static final Field<Host, List<String>> ALLOWED_OPERATIONS =
      CLASS.strings("allowed_operations", RO);
  public static final Field<Host, Map<String, String>> CURRENT_OPERATIONS =
      CLASS.map("current_operations", RO);
  public static final Field<Host, Map<String, String>> API_VERSION_VENDOR_IMPLEMENTATION =
      CLASS.map("API_version_vendor_implementation", RO);
  public static final Field<Host, List<String>> CAPABILITIES = CLASS.strings("capabilities", RO);
  public static final Field<Host, Map<String, String>> CPU_CONFIGURATION =
      CLASS.map("cpu_configuration", RO);
  public static final Field<Host, String> SCHED_POLICY = CLASS.string("sched_policy", RO);
  public static final Field<Host, List<String>> SUPPORTED_BOOTLOADERS =
      CLASS.strings("supported_bootloaders", RO);
  public static final Field<Host, Map<String, String>> LOGGING = CLASS.map("logging", RW);
  public static final Field<Host, List<Ref<Pif>>> PIFS = CLASS.inverse("PIFs", "PIF", "host");
  public static final Field<Host, Ref<Sr>> SUSPEND_IMAGE_SR =
      CLASS.ref("suspend_image_sr", "SR", RW);
  public static final Field<Host, Ref<Sr>> CRASH_DUMP_SR = CLASS.ref("crash_dump_sr", "SR", RW);
  public static final Field<Host, List<Ref<Unmodelled>>> CRASHDUMPS =
      CLASS.refs("crashdumps", "host_crashdump", RO);
  public static final Field<Host, List<Ref<Unmodelled>>> PATCHES =
      CLASS.refs("patches", "host_patch", RO);
  public static final Field<Host, List<Ref<PoolUpdate>>> UPDATES =
      CLASS.refs("updates", "pool_update", RO);
  public static final Field<Host, List<Ref<Unmodelled>>> HOST_CPUS =
      CLASS.refs("host_CPUs", "host_cpu", RO);
  public static final Field<Host, Map<String, String>> CPU_INFO = CLASS.map("cpu_info", RO);
  public static final Field<Host, Ref<HostMetrics>> METRICS =
      CLASS.ref("metrics", "host_metrics", RO);
  public static final Field<Host, Map<String, String>> LICENSE_PARAMS =
      CLASS.map("license_params", RO);
  public static final Field<Host, List<String>> HA_STATEFILES = CLASS.strings("ha_statefiles", RO);
  public static final Field<Host, List<String>> HA_NETWORK_PEERS =
      CLASS.strings("ha_network_peers", RO);
  public static final Field<Host, Map<String, String>> BLOBS = CLASS.map("blobs", RO);
  public static final Field<Host, String> EXTERNAL_AUTH_TYPE =
      CLASS.string("external_auth_type", RO);
  public static final Field<Host, String> EXTERNAL_AUTH_SERVICE_NAME =
      CLASS.string("external_auth_service_name", RO);
  public static final Field<Host, Map<String, String>> EXTERNAL_AUTH_CONFIGURATION =
      CLASS.map("external_auth_configuration", RO);
  public static final Field<Host, String> EDITION = CLASS.string("edition", RO);
  public static final Field<Host, Map<String, String>> LICENSE_SERVER =
      CLASS.map("license_server", RW);
  public static final Field<Host, Map<String, String>> BIOS_STRINGS = CLASS.map("bios_strings", RO);
  public static final Field<Host, String> POWER_ON_MODE = CLASS.string("power_on_mode", RW);
  public static final Field<Host, Map<String, String>> POWER_ON_CONFIG =
      CLASS.map("power_on_config", RO);
  public static final Field<Host, Ref<Sr>> LOCAL_CACHE_SR = CLASS.ref("local_cache_sr", "SR", RO);
  public static final Field<Host, Map<String, String>> CHIPSET_INFO = CLASS.map("chipset_info", RO);
  public static final Field<Host, List<Ref<Unmodelled>>> PCIS = CLASS.refs("PCIs", "PCI", RO);
  public static final Field<Host, List<Ref<Unmodelled>>> PGPUS = CLASS.refs("PGPUs", "PGPU", RO);
  public static final Field<Host, List<Ref<Unmodelled>>> PUSBS = CLASS.refs("PUSBs", "PUSB", RO);
  public static final Field<Host, Boolean> SSL_LEGACY = CLASS.bool("ssl_legacy", RW);
  public static final Field<Host, Map<String, String>> GUEST_VCPUS_PARAMS =
      CLASS.map("guest_VCPUs_params", RW);
  public static final Field<Host, HostDisplay> DISPLAY =
      CLASS.enumeration("display", HostDisplay.class, RW, HostDisplay.ENABLED);
  public static final Field<Host, List<String>> VIRTUAL_HARDWARE_PLATFORM_VERSIONS =
      CLASS.strings("virtual_hardware_platform_versions", RO);
  public static final Field<Host, Ref<Vm>> CONTROL_DOMAIN = CLASS.ref("control_domain", "VM", RO);
  public static final Field<Host, List<Ref<PoolUpdate>>> UPDATES_REQUIRING_REBOOT =
      CLASS.refs("updates_requiring_reboot", "pool_update", RO);
  public static final Field<Host, List<Ref<Unmodelled>>> FEATURES =
      CLASS.refs("features", "Feature", RO);
  public static final Field<Host, String> ISCSI_IQN = CLASS.string("iscsi_iqn", RW);
  public static final Field<Host, Boolean> MULTIPATHING = CLASS.bool("multipathing", RW);
  public static final Field<Host, String> UEFI_CERTIFICATES = CLASS.string("uefi_certificates", RW);
}
