package org.xsm.server.db;

import static org.xsm.server.db.FieldType.BOOL;
import static org.xsm.server.db.FieldType.DATETIME;
import static org.xsm.server.db.FieldType.ENUM;
import static org.xsm.server.db.FieldType.FLOAT;
import static org.xsm.server.db.FieldType.INT;
import static org.xsm.server.db.FieldType.MAP;
import static org.xsm.server.db.FieldType.STRING;
import static org.xsm.server.db.FieldType.STRING_SET;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The XenAPI classes xsm keeps, with their fields as XenAPI names them. Relations are stored once,
 * on the single-reference side (VBD.VM); the set side (VM.VBDs) is computed, so both always agree.
 */
public final class Schema {
  public static final String NULL_REF = "OpaqueRef:NULL";

  private static final Map<String, ClassSpec> CLASSES = new LinkedHashMap<>();

  private static ClassSpec cls(String name) {
    ClassSpec c = new ClassSpec(name);
    CLASSES.put(name.toLowerCase(java.util.Locale.ROOT), c);
    return c;
  }

  static {
    cls("pool")
        .named()
        .ref("master", "host", false)
        .ref("default_SR", "SR", true)
        .ref("suspend_image_SR", "SR", true)
        .ref("crash_dump_SR", "SR", true)
        .maps("other_config", "gui_config")
        .field("tags", STRING_SET, true)
        .field("ha_enabled", BOOL, false);
    cls("host")
        .named()
        .field("hostname", STRING, true)
        .field("address", STRING, false)
        .field("enabled", BOOL, false, true)
        .field("API_version_major", INT, false, 2L)
        .field("API_version_minor", INT, false, 21L)
        .field("API_version_vendor", STRING, false, "xsm")
        .maps("other_config")
        .field("software_version", MAP, false)
        .inverse("PBDs", "PBD", "host")
        .inverse("resident_VMs", "VM", "resident_on")
        .field("tags", STRING_SET, true);
    cls("session")
        .ref("this_host", "host", false)
        .ref("this_user", "user", false)
        .field("last_active", DATETIME, false)
        .field("pool", BOOL, false)
        .field("is_local_superuser", BOOL, false)
        .field("auth_user_name", STRING, false)
        .field("originator", STRING, false)
        .field("rbac_permissions", STRING_SET, false)
        .maps("other_config");
    cls("user")
        .field("short_name", STRING, false)
        .field("fullname", STRING, true)
        .maps("other_config");
    cls("SR")
        .named()
        .inverse("VDIs", "VDI", "SR")
        .inverse("PBDs", "PBD", "SR")
        .field("virtual_allocation", INT, false)
        .field("physical_utilisation", INT, false)
        .field("physical_size", INT, false)
        .field("type", STRING, false)
        .field("content_type", STRING, false)
        .field("shared", BOOL, true)
        .maps("other_config", "sm_config")
        .field("tags", STRING_SET, true)
        .field("allowed_operations", STRING_SET, false)
        .field("current_operations", MAP, false)
        .field("local_cache_enabled", BOOL, false)
        .ref("introduced_by", "DR_task", false)
        .field("clustered", BOOL, false)
        .field("is_tools_sr", BOOL, false);
    cls("PBD")
        .ref("host", "host", false)
        .ref("SR", "SR", false)
        .field("device_config", MAP, false)
        .field("currently_attached", BOOL, false)
        .maps("other_config");
    cls("VDI")
        .named()
        .ref("SR", "SR", false)
        .inverse("VBDs", "VBD", "VDI")
        .field("virtual_size", INT, false)
        .field("physical_utilisation", INT, false)
        .field("type", ENUM, false, "user")
        .field("sharable", BOOL, false)
        .field("read_only", BOOL, false)
        .maps("other_config", "xenstore_data", "sm_config")
        .field("storage_lock", BOOL, false)
        .field("location", STRING, false)
        .field("managed", BOOL, false, true)
        .field("missing", BOOL, false)
        .ref("parent", "VDI", false)
        .field("is_a_snapshot", BOOL, false)
        .ref("snapshot_of", "VDI", false)
        .inverse("snapshots", "VDI", "snapshot_of")
        .field("snapshot_time", DATETIME, false)
        .field("tags", STRING_SET, true)
        .field("allow_caching", BOOL, false)
        .field("on_boot", ENUM, false, "persist")
        .ref("metadata_of_pool", "pool", false)
        .field("metadata_latest", BOOL, false)
        .field("is_tools_iso", BOOL, false)
        .field("cbt_enabled", BOOL, false)
        .field("allowed_operations", STRING_SET, false)
        .field("current_operations", MAP, false);
    cls("VBD")
        .ref("VM", "VM", false)
        .ref("VDI", "VDI", false)
        .field("device", STRING, false)
        .field("userdevice", STRING, true)
        .field("bootable", BOOL, true)
        .field("mode", ENUM, true, "RW")
        .field("type", ENUM, true, "Disk")
        .field("unpluggable", BOOL, true, true)
        .field("storage_lock", BOOL, false)
        .field("empty", BOOL, false)
        .field("currently_attached", BOOL, false)
        .maps("other_config", "qos_algorithm_params")
        .field("qos_algorithm_type", STRING, true)
        .field("allowed_operations", STRING_SET, false)
        .field("current_operations", MAP, false);
    cls("VM")
        .named()
        .field("power_state", ENUM, false, "Halted")
        .field("user_version", INT, true, 1L)
        .field("is_a_template", BOOL, true)
        .field("is_default_template", BOOL, false)
        .ref("suspend_VDI", "VDI", false)
        .ref("resident_on", "host", false)
        .ref("affinity", "host", true)
        .field("memory_static_max", INT, false, 1073741824L)
        .field("memory_dynamic_max", INT, false, 1073741824L)
        .field("memory_dynamic_min", INT, false, 1073741824L)
        .field("memory_static_min", INT, false, 1073741824L)
        .field("VCPUs_max", INT, false, 1L)
        .field("VCPUs_at_startup", INT, false, 1L)
        .field("actions_after_shutdown", ENUM, true, "destroy")
        .field("actions_after_reboot", ENUM, true, "restart")
        .field("actions_after_crash", ENUM, true, "restart")
        .inverse("VBDs", "VBD", "VM")
        .inverse("VIFs", "VIF", "VM")
        .inverse("VGPUs", "VGPU", "VM")
        .field("PV_bootloader", STRING, true)
        .field("HVM_boot_policy", STRING, true)
        .maps("other_config", "platform", "HVM_boot_params", "blocked_operations", "xenstore_data")
        .field("domid", INT, false, -1L)
        .field("is_control_domain", BOOL, false)
        .field("is_a_snapshot", BOOL, false)
        .ref("snapshot_of", "VM", false)
        .inverse("snapshots", "VM", "snapshot_of")
        .field("snapshot_time", DATETIME, false)
        .field("snapshot_info", MAP, false)
        .field("snapshot_metadata", STRING, false)
        .field("transportable_snapshot_id", STRING, false)
        .ref("parent", "VM", false)
        .inverse("children", "VM", "parent")
        .field("tags", STRING_SET, true)
        .field("allowed_operations", STRING_SET, false)
        .field("current_operations", MAP, false)
        .ref("suspend_SR", "SR", true)
        .field("generation_id", STRING, false)
        .field("has_vendor_device", BOOL, false);
    cls("network")
        .named()
        .inverse("VIFs", "VIF", "network")
        .field("bridge", STRING, false)
        .field("MTU", INT, true, 1500L)
        .maps("other_config")
        .field("tags", STRING_SET, true);
    cls("VIF")
        .field("device", STRING, false)
        .ref("network", "network", false)
        .ref("VM", "VM", false)
        .field("MAC", STRING, false)
        .field("MTU", INT, false, 1500L)
        .field("currently_attached", BOOL, false)
        .field("MAC_autogenerated", BOOL, false)
        .maps("other_config", "qos_algorithm_params")
        .field("qos_algorithm_type", STRING, true)
        .field("allowed_operations", STRING_SET, false)
        .field("current_operations", MAP, false);
    cls("VGPU")
        .ref("VM", "VM", false)
        .field("device", STRING, false)
        .field("currently_attached", BOOL, false)
        .maps("other_config");
    cls("task")
        .named()
        .field("allowed_operations", STRING_SET, false)
        .field("current_operations", MAP, false)
        .field("created", DATETIME, false)
        .field("finished", DATETIME, false)
        .field("status", ENUM, false, "pending")
        .ref("resident_on", "host", false)
        .field("progress", FLOAT, false)
        .field("type", STRING, false)
        .field("result", STRING, false)
        .field("error_info", STRING_SET, false)
        .maps("other_config")
        .ref("subtask_of", "task", false)
        .inverse("subtasks", "task", "subtask_of")
        .field("backtrace", STRING, false);
    cls("message")
        .field("name", STRING, false)
        .field("priority", INT, false)
        .field("cls", ENUM, false, "Host")
        .field("obj_uuid", STRING, false)
        .field("timestamp", DATETIME, false)
        .field("body", STRING, false);
  }

  private Schema() {}

  /** A class by name, case-insensitively, or null. */
  public static ClassSpec get(String name) {
    return name == null ? null : CLASSES.get(name.toLowerCase(java.util.Locale.ROOT));
  }

  public static Collection<ClassSpec> classes() {
    return CLASSES.values();
  }
}
