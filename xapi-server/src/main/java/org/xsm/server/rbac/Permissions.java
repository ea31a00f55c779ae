package org.xsm.server.rbac;

import static org.xsm.server.model.StaticRole.POOL_ADMIN;
import static org.xsm.server.model.StaticRole.POOL_OPERATOR;
import static org.xsm.server.model.StaticRole.READ_ONLY;
import static org.xsm.server.model.StaticRole.VM_ADMIN;
import static org.xsm.server.model.StaticRole.VM_OPERATOR;
import static org.xsm.server.model.StaticRole.VM_POWER_ADMIN;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;
import org.xsm.server.model.Schema;
import org.xsm.server.model.StaticRole;
import org.xsm.server.model.XClass;

/**
 * Which roles may call each message: the one table of xsm's access rules, as xapi's datamodel gives
 * them (each message's {@code allowed_roles}, each field's reader and writer roles, each class's
 * default). Rules, in order:
 *
 * <ol>
 *   <li>a message this table names (a class's own messages, below);
 *   <li>the generic readers ({@code get_all}, {@code get_all_records}, {@code get_record}, {@code
 *       get_by_uuid}, {@code get_by_name_label}, {@code get_<field>}): read-only, as xapi (secrets
 *       excepted);
 *   <li>the generic writers ({@code set_/add_to_/remove_from_/add_/remove_<field>}) and {@code
 *       create}/{@code destroy}: the field's writer role or the class's default (a few map keys,
 *       such as a VM's {@code other_config:folder}, have their own);
 *   <li>anything else (a message added later that no rule names): pool-admin only, logged once, so
 *       that nothing is ever left unchecked.
 * </ol>
 *
 * Permission names are xapi's: the message's wire name in lower case ({@code vm.start}), {@code
 * <message>/key:<key>} for a protected map key, {@code http/<action>} for an HTTP handler.
 */
public final class Permissions {
  private static final Logger LOG = Logger.getLogger(Permissions.class);

  /** A permission and who holds it. */
  public record Resolved(String permission, Requirement requirement) {}

  private static final Requirement ROOT = Requirement.LOCAL_SUPERUSER;
  private static final Set<String> READERS =
      Set.of("get_all", "get_all_records", "get_record", "get_by_uuid", "get_by_name_label");
  private static final List<String> WRITER_PREFIXES =
      List.of("set_", "add_to_", "remove_from_", "add_", "remove_");

  private static final Map<String, ClassRules> CLASSES = new HashMap<>();
  private static final Map<String, Requirement> HTTP = new LinkedHashMap<>();
  private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

  private Permissions() {}

  /** The access rules of one class. */
  private static final class ClassRules {
    final Requirement writer;
    Requirement reader = Requirement.atLeast(READ_ONLY);
    final Map<String, Requirement> fieldWriters = new HashMap<>();
    final Map<String, Requirement> calls = new HashMap<>();
    final Map<String, Requirement> otherConfigKeys = new LinkedHashMap<>();

    ClassRules(StaticRole writer) {
      this.writer = Requirement.atLeast(writer);
    }

    ClassRules fields(StaticRole role, String names) {
      return fields(Requirement.atLeast(role), names);
    }

    ClassRules fields(Requirement r, String names) {
      return put(fieldWriters, r, names);
    }

    ClassRules calls(StaticRole role, String names) {
      return calls(Requirement.atLeast(role), names);
    }

    ClassRules calls(Requirement r, String names) {
      return put(calls, r, names);
    }

    private ClassRules put(Map<String, Requirement> m, Requirement r, String names) {
      for (String n : names.trim().split("\\s+")) {
        m.put(n, r);
      }
      return this;
    }

    /** Keys of {@code other_config} that XenCenter's folders and custom fields use. */
    ClassRules folderKeys(String... extra) {
      otherConfigKeys.put("folder", Requirement.atLeast(VM_OPERATOR));
      otherConfigKeys.put("XenCenter.CustomFields.*", Requirement.atLeast(VM_OPERATOR));
      for (String k : extra) {
        otherConfigKeys.put(k, Requirement.atLeast(VM_OPERATOR));
      }
      return this;
    }
  }

  private static ClassRules define(String cls, StaticRole writer) {
    ClassRules r = new ClassRules(writer);
    CLASSES.put(cls, r);
    return r;
  }

  static {
    define("session", POOL_ADMIN)
        .calls(READ_ONLY, "login_with_password logout get_all_subject_identifiers")
        .calls(POOL_OPERATOR, "logout_subject_identifier")
        .calls(POOL_ADMIN, "local_logout slave_local_login_with_password slave_login")
        .calls(ROOT, "change_password create_from_db_file");
    define("subject", POOL_ADMIN)
        .calls(READ_ONLY, "get_permissions_name_label")
        .calls(POOL_ADMIN, "create destroy add_to_roles remove_from_roles");
    define("role", POOL_ADMIN)
        .calls(
            READ_ONLY,
            "get_permissions get_permissions_name_label get_by_permission"
                + " get_by_permission_name_label");
    define("user", POOL_ADMIN).calls(POOL_ADMIN, "create destroy");
    define("secret", POOL_OPERATOR)
            .calls(POOL_OPERATOR, "create destroy introduce")
            .calls(READ_ONLY, "get_other_config")
            .reader =
        Requirement.atLeast(POOL_OPERATOR);
    define("task", POOL_OPERATOR)
        .calls(
            READ_ONLY, "create destroy cancel set_status set_progress set_result set_error_info");
    define("event", POOL_ADMIN)
        .calls(READ_ONLY, "register unregister next from get_current_id inject");
    define("pool", POOL_OPERATOR)
        .folderKeys("EMPTY_FOLDERS")
        .fields(POOL_ADMIN, "custom_uefi_certificates guest_agent_config uefi_certificates")
        .fields(POOL_ADMIN, "telemetry_next_collection")
        .fields(VM_OPERATOR, "gui_config tags")
        .calls(
            POOL_OPERATOR,
            "add_repository apply_edition certificate_install certificate_list"
                + " certificate_sync certificate_uninstall check_update_readiness"
                + " configure_repository_proxy configure_update_sync create_VLAN"
                + " create_VLAN_from_PIF create_new_blob crl_install crl_list crl_uninstall"
                + " deconfigure_wlb designate_new_master detect_nonhomogeneous_external_auth"
                + " disable_client_certificate_auth disable_ha disable_local_storage_caching"
                + " disable_redo_log disable_repository_proxy disable_ssl_legacy eject"
                + " emergency_reset_master emergency_transition_to_master"
                + " enable_client_certificate_auth enable_ha enable_local_storage_caching"
                + " enable_redo_log enable_ssl_legacy ha_compute_max_host_failures_to_tolerate"
                + " ha_compute_vm_failover_plan ha_failover_plan_exists ha_prevent_restarts_for"
                + " initialize_wlb install_ca_certificate join join_force"
                + " management_reconfigure recover_slaves remove_repository"
                + " send_wlb_configuration set_https_only sync_database sync_updates"
                + " test_archive_target uninstall_ca_certificate set_vswitch_controller"
                + " set_ha_host_failures_to_tolerate set_igmp_snooping_enabled")
        .calls(
            POOL_ADMIN,
            "disable_external_auth enable_external_auth enable_tls_verification has_extension"
                + " reset_telemetry_uuid rotate_secret send_test_post initial_auth"
                + " xsm_add_member")
        .calls(
            READ_ONLY,
            "get_license_state ha_compute_hypothetical_max_host_failures_to_tolerate"
                + " retrieve_wlb_configuration retrieve_wlb_recommendations");
    define("pool_update", POOL_OPERATOR)
        .calls(POOL_OPERATOR, "apply destroy introduce pool_apply pool_clean precheck");
    define("VM", VM_ADMIN)
        .folderKeys()
        .fields(
            VM_POWER_ADMIN,
            "HVM_shadow_multiplier affinity memory_dynamic_max memory_dynamic_min"
                + " memory_static_max memory_static_min")
        .fields(
            POOL_OPERATOR,
            "appliance ha_always_run ha_restart_priority order protection_policy"
                + " shutdown_delay snapshot_schedule start_delay suspend_VDI")
        .fields(VM_OPERATOR, "tags")
        .calls(
            VM_POWER_ADMIN,
            "assert_can_migrate checkpoint create_new_blob migrate_send pool_migrate"
                + " restart_device_models resume_on revert set_memory set_memory_dynamic_range"
                + " set_memory_limits set_memory_static_range set_memory_target_live"
                + " set_shadow_multiplier_live snapshot snapshot_with_quiesce start_on")
        .calls(POOL_OPERATOR, "import power_state_reset")
        .calls(
            VM_OPERATOR,
            "call_plugin clean_reboot clean_shutdown hard_reboot hard_shutdown pause resume"
                + " shutdown start suspend unpause")
        .calls(POOL_ADMIN, "query_services send_sysrq send_trigger update_allowed_operations")
        .calls(
            VM_ADMIN,
            "add_to_VCPUs_params_live clone copy copy_bios_strings create destroy"
                + " forget_data_source_archives import_convert provision record_data_source"
                + " set_VCPUs_number_live")
        .calls(
            READ_ONLY,
            "assert_agile assert_can_be_recovered assert_can_boot_here assert_operation_valid"
                + " compute_memory_overhead get_SRs_required_for_recovery"
                + " get_allowed_VBD_devices get_allowed_VIF_devices get_boot_record"
                + " get_cooperative get_data_sources get_possible_hosts maximise_memory"
                + " query_data_source recover retrieve_wlb_recommendations"
                + " wait_memory_target_live");
    CLASSES.get("VM").otherConfigKeys.put("pci", Requirement.atLeast(POOL_ADMIN));
    define("VM_metrics", VM_ADMIN);
    define("VM_guest_metrics", VM_ADMIN);
    define("host", POOL_OPERATOR)
        .folderKeys()
        .calls(
            POOL_ADMIN,
            "tickle_heartbeat xsm_domain_create xsm_domain_control xsm_domain_migrate_in"
                + " xsm_domain_migrate_out xsm_domain_migrate_finish xsm_sr_plug xsm_sr_unplug"
                + " xsm_vdi_attach xsm_vdi_detach xsm_vdi_suspend xsm_vdi_resume xsm_vdi_reopen")
        .fields(POOL_ADMIN, "numa_affinity_policy")
        .fields(VM_OPERATOR, "tags")
        .fields(ROOT, "uefi_certificates")
        .calls(
            ROOT,
            "emergency_clear_mandatory_guidance emergency_disable_tls_verification"
                + " emergency_reenable_tls_verification emergency_reset_server_certificate"
                + " get_sched_gran set_sched_gran")
        .calls(
            POOL_OPERATOR,
            "apply_edition apply_recommended_guidances apply_updates assert_can_evacuate"
                + " bugreport_upload create_new_blob declare_dead destroy disable"
                + " disable_display disable_local_storage_caching dmesg dmesg_clear"
                + " emergency_ha_disable enable enable_display enable_local_storage_caching"
                + " evacuate forget_data_source_archives get_management_interface license_add"
                + " license_apply license_remove local_management_reconfigure"
                + " management_disable management_reconfigure power_on reboot"
                + " record_data_source refresh_pack_info reset_cpu_features restart_agent"
                + " set_cpu_features set_hostname_live shutdown shutdown_agent"
                + " syslog_reconfigure set_https_only set_ssl_legacy set_iscsi_iqn"
                + " set_multipathing set_power_on_mode")
        .calls(VM_POWER_ADMIN, "migrate_receive")
        .calls(
            POOL_ADMIN,
            "backup_rrds call_extension call_plugin disable_external_auth"
                + " enable_external_auth has_extension install_server_certificate"
                + " refresh_server_certificate reset_server_certificate send_debug_keys"
                + " sync_data")
        .calls(
            READ_ONLY,
            "compute_free_memory compute_memory_overhead get_data_sources get_log"
                + " get_server_certificate get_server_localtime get_servertime"
                + " get_system_status_capabilities get_uncooperative_resident_VMs"
                + " get_vms_which_prevent_evacuation list_methods query_data_source"
                + " retrieve_wlb_evacuate_recommendations");
    define("host_metrics", POOL_OPERATOR);
    define("network", POOL_OPERATOR)
        .folderKeys("XenCenterCreateInProgress")
        .fields(VM_ADMIN, "MTU")
        .fields(POOL_ADMIN, "purpose")
        .fields(VM_OPERATOR, "tags")
        .calls(POOL_OPERATOR, "create_new_blob")
        .calls(VM_ADMIN, "create destroy");
    define("VIF", VM_ADMIN)
        .fields(POOL_OPERATOR, "ipv4_allowed ipv6_allowed locking_mode")
        .calls(VM_OPERATOR, "configure_ipv4 configure_ipv6")
        .calls(VM_ADMIN, "create destroy move plug unplug unplug_force");
    define("PIF", POOL_OPERATOR)
        .calls(
            POOL_OPERATOR,
            "create_VLAN db_forget db_introduce destroy forget introduce plug reconfigure_ip"
                + " reconfigure_ipv6 scan set_property unplug");
    define("SM", POOL_OPERATOR);
    define("SR", POOL_OPERATOR)
        .folderKeys()
        .fields(VM_OPERATOR, "tags")
        .calls(
            POOL_OPERATOR,
            "assert_can_host_ha_statefile assert_supports_database_replication create"
                + " create_new_blob destroy disable_database_replication"
                + " enable_database_replication forget forget_data_source_archives introduce"
                + " make probe probe_ext record_data_source update")
        .calls(READ_ONLY, "get_data_sources get_supported_types query_data_source")
        .calls(VM_POWER_ADMIN, "scan");
    define("VDI", VM_ADMIN)
        .folderKeys()
        .fields(VM_OPERATOR, "tags")
        .calls(
            VM_ADMIN,
            "clone copy create data_destroy destroy disable_cbt enable_cbt forget"
                + " get_nbd_info introduce resize resize_online snapshot update")
        .calls(VM_OPERATOR, "list_changed_blocks")
        .calls(VM_POWER_ADMIN, "pool_migrate")
        .calls(READ_ONLY, "read_database_pool_uuid")
        .calls(POOL_OPERATOR, "open_database");
    define("VBD", VM_ADMIN)
        .calls(VM_ADMIN, "assert_attachable create destroy plug unplug unplug_force")
        .calls(VM_OPERATOR, "eject insert");
    define("PBD", POOL_OPERATOR).calls(POOL_OPERATOR, "create destroy plug unplug");
    define("VTPM", VM_ADMIN).calls(VM_ADMIN, "create destroy");
    define("console", VM_ADMIN).calls(VM_ADMIN, "create destroy");
    define("blob", POOL_OPERATOR).calls(POOL_OPERATOR, "create destroy");
    define("message", POOL_OPERATOR)
        .calls(READ_ONLY, "get get_all_records_where get_since")
        .calls(POOL_OPERATOR, "create destroy destroy_many");
    define("VGPU", POOL_OPERATOR).calls(POOL_OPERATOR, "create destroy");

    http(VM_ADMIN, "put_import put_import_metadata put_import_raw_vdi");
    http(VM_ADMIN, "get_export get_export_metadata get_export_raw_vdi");
    http(VM_OPERATOR, "connect_console connect_console_ws get_vncsnapshot");
    http(VM_POWER_ADMIN, "put_blob put_messages");
    http(READ_ONLY, "get_blob get_rrd_updates get_vm_rrd get_host_rrd get_sr_rrd");
    http(POOL_OPERATOR, "get_system_status get_host_logs_download");
    http(POOL_ADMIN, "get_pool_xml_db_sync get_host_backup put_host_restore");
  }

  private static void http(StaticRole role, String actions) {
    for (String a : actions.split("\\s+")) {
      HTTP.put(a, Requirement.atLeast(role));
    }
  }

  /** The HTTP actions with a permission ({@code put_import_raw_vdi}, ...), in a stable order. */
  public static Set<String> httpActions() {
    return HTTP.keySet();
  }

  /** The permission of an HTTP handler, named as xapi names it ({@code get_export_raw_vdi}). */
  public static Resolved http(String action) {
    Requirement r = HTTP.get(action);
    if (r == null) {
      logUnknown("http/" + action);
      r = Requirement.atLeast(POOL_ADMIN);
    }
    return new Resolved("http/" + action.toLowerCase(Locale.ROOT), r);
  }

  /**
   * The permission a call needs.
   *
   * @param message the synchronous wire name, {@code VM.start}
   * @param args the parameters after the session; the key of an {@code add_to_other_config} or
   *     {@code remove_from_other_config} call may pick a key permission
   */
  public static Resolved of(String message, List<Object> args) {
    Resolved r = byRule(message, args);
    return r != null ? r : unknown(message.toLowerCase(Locale.ROOT));
  }

  /** Whether a rule names {@code message} (else only pool-admin may call it). */
  public static boolean hasRule(String message) {
    return byRule(message, List.of()) != null;
  }

  /** The permission the rules give a call, or null when no rule names it. */
  private static Resolved byRule(String message, List<Object> args) {
    String permission = message.toLowerCase(Locale.ROOT);
    int dot = message.indexOf('.');
    if (dot <= 0) {
      return null;
    }
    String cls = message.substring(0, dot);
    String msg = message.substring(dot + 1);
    ClassRules rules = CLASSES.get(cls);
    XClass<?> schema = Schema.get(cls);
    if (rules != null && rules.calls.containsKey(msg)) {
      return new Resolved(permission, rules.calls.get(msg));
    }
    if (READERS.contains(msg)
        || (msg.startsWith("get_") && schema != null && schema.has(msg.substring(4)))) {
      return new Resolved(
          permission, rules == null ? Requirement.atLeast(READ_ONLY) : rules.reader);
    }
    if (rules == null) {
      return null;
    }
    if (msg.equals("create") || msg.equals("destroy")) {
      return new Resolved(permission, rules.writer);
    }
    for (String prefix : WRITER_PREFIXES) {
      if (msg.startsWith(prefix)) {
        String field = msg.substring(prefix.length());
        if (schema != null && schema.has(field) || rules.fieldWriters.containsKey(field)) {
          Resolved keyed = keyed(permission, rules, field, prefix, args);
          return keyed != null
              ? keyed
              : new Resolved(permission, rules.fieldWriters.getOrDefault(field, rules.writer));
        }
      }
    }
    return null;
  }

  /** The permission of a protected map key ({@code vm.add_to_other_config/key:folder}), or null. */
  private static Resolved keyed(
      String permission, ClassRules rules, String field, String prefix, List<Object> args) {
    if (!field.equals("other_config")
        || !(prefix.equals("add_to_") || prefix.equals("remove_from_"))
        || args == null
        || args.size() < 2
        || !(args.get(1) instanceof String key)) {
      return null;
    }
    for (Map.Entry<String, Requirement> e : rules.otherConfigKeys.entrySet()) {
      String k = e.getKey();
      boolean match =
          k.endsWith("*") ? key.startsWith(k.substring(0, k.length() - 1)) : k.equals(key);
      if (match) {
        return new Resolved(permission + "/key:" + k.toLowerCase(Locale.ROOT), e.getValue());
      }
    }
    return null;
  }

  private static Resolved unknown(String permission) {
    logUnknown(permission);
    return new Resolved(permission, Requirement.atLeast(POOL_ADMIN));
  }

  private static void logUnknown(String permission) {
    if (LOGGED.add(permission)) {
      LOG.warnf(
          "No RBAC rule names %s: only pool-admin may call it (add it to rbac/Permissions)",
          permission);
    }
  }

  /**
   * Every protected key permission of the table ({@code vm.add_to_other_config/key:folder}), with
   * who holds it: part of a role's permissions as in xapi.
   */
  public static Map<String, Requirement> keyPermissions() {
    Map<String, Requirement> out = new LinkedHashMap<>();
    CLASSES.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            c -> {
              for (Map.Entry<String, Requirement> k : c.getValue().otherConfigKeys.entrySet()) {
                for (String p : List.of("add_to_other_config", "remove_from_other_config")) {
                  out.put(
                      (c.getKey() + "." + p + "/key:" + k.getKey()).toLowerCase(Locale.ROOT),
                      k.getValue());
                }
              }
            });
    return out;
  }
}
