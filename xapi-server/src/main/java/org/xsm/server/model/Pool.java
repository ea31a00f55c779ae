package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code pool}. */
public final class Pool {
  private Pool() {}

  public static final XClass<Pool> CLASS =
      new XClass<Pool>("pool").without(XClass.Generic.BY_NAME_LABEL);
  public static final Field<Pool, String> UUID = CLASS.uuid();
  public static final Field<Pool, String> NAME_LABEL = CLASS.indexedString("name_label", RW);
  public static final Field<Pool, String> NAME_DESCRIPTION = CLASS.string("name_description", RW);
  public static final Field<Pool, Ref<Host>> MASTER = CLASS.ref("master", "host", RO);
  public static final Field<Pool, Ref<Sr>> DEFAULT_SR = CLASS.ref("default_SR", "SR", RW);
  public static final Field<Pool, Ref<Sr>> SUSPEND_IMAGE_SR =
      CLASS.ref("suspend_image_SR", "SR", RW);
  public static final Field<Pool, Ref<Sr>> CRASH_DUMP_SR = CLASS.ref("crash_dump_SR", "SR", RW);
  public static final Field<Pool, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Pool, Map<String, String>> GUI_CONFIG = CLASS.map("gui_config", RW);
  public static final Field<Pool, List<String>> TAGS = CLASS.strings("tags", RW);
  public static final Field<Pool, Boolean> HA_ENABLED = CLASS.bool("ha_enabled", RO);
  public static final Field<Pool, Map<String, String>> HA_CONFIGURATION =
      CLASS.map("ha_configuration", RO);
  public static final Field<Pool, List<String>> HA_STATEFILES = CLASS.strings("ha_statefiles", RO);
  public static final Field<Pool, Long> HA_HOST_FAILURES_TO_TOLERATE =
      CLASS.integer("ha_host_failures_to_tolerate", RW);
  public static final Field<Pool, Long> HA_PLAN_EXISTS_FOR =
      CLASS.integer("ha_plan_exists_for", RO);
  public static final Field<Pool, Boolean> HA_ALLOW_OVERCOMMIT =
      CLASS.bool("ha_allow_overcommit", RW);
  public static final Field<Pool, Boolean> HA_OVERCOMMITTED = CLASS.bool("ha_overcommitted", RO);
  public static final Field<Pool, Map<String, String>> BLOBS = CLASS.map("blobs", RO);
  public static final Field<Pool, Map<String, String>> HEALTH_CHECK_CONFIG =
      CLASS.map("health_check_config", RW);
  public static final Field<Pool, String> WLB_URL = CLASS.string("wlb_url", RO);
  public static final Field<Pool, String> WLB_USERNAME = CLASS.string("wlb_username", RO);
  public static final Field<Pool, Boolean> WLB_ENABLED = CLASS.bool("wlb_enabled", RW);
  public static final Field<Pool, Boolean> WLB_VERIFY_CERT = CLASS.bool("wlb_verify_cert", RW);
  public static final Field<Pool, Boolean> REDO_LOG_ENABLED = CLASS.bool("redo_log_enabled", RO);
  public static final Field<Pool, Ref<Vdi>> REDO_LOG_VDI = CLASS.ref("redo_log_vdi", "VDI", RO);
  public static final Field<Pool, String> VSWITCH_CONTROLLER =
      CLASS.string("vswitch_controller", RW);
  public static final Field<Pool, Map<String, String>> RESTRICTIONS = CLASS.map("restrictions", RO);
  public static final Field<Pool, List<Ref<Vdi>>> METADATA_VDIS =
      CLASS.refs("metadata_VDIs", "VDI", RO);
  public static final Field<Pool, String> HA_CLUSTER_STACK = CLASS.string("ha_cluster_stack", RO);
  public static final Field<Pool, List<String>> ALLOWED_OPERATIONS =
      CLASS.strings("allowed_operations", RO);
  public static final Field<Pool, Map<String, String>> CURRENT_OPERATIONS =
      CLASS.map("current_operations", RO);
  public static final Field<Pool, Map<String, String>> GUEST_AGENT_CONFIG =
      CLASS.map("guest_agent_config", RO);
  public static final Field<Pool, Map<String, String>> CPU_INFO = CLASS.map("cpu_info", RO);
  public static final Field<Pool, Boolean> POLICY_NO_VENDOR_DEVICE =
      CLASS.bool("policy_no_vendor_device", RW);
  public static final Field<Pool, Boolean> LIVE_PATCHING_DISABLED =
      CLASS.bool("live_patching_disabled", RW);
  public static final Field<Pool, Boolean> IGMP_SNOOPING_ENABLED =
      CLASS.bool("igmp_snooping_enabled", RW);
  public static final Field<Pool, String> UEFI_CERTIFICATES = CLASS.string("uefi_certificates", RW);
}
