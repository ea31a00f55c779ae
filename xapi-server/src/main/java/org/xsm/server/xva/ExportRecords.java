package org.xsm.server.xva;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.model.Field;
import org.xsm.server.model.FieldType;
import org.xsm.server.model.Ref;
import org.xsm.server.model.XClass;

/**
 * A database record as ova.xml carries it (xapi's export.ml {@code make_*}): every reference
 * becomes the export id of its object, or {@code OpaqueRef:NULL} for an object not exported (so no
 * internal reference leaks out); reference sets keep only exported members; then each class's own
 * blanks (operations, runtime state, metrics, blobs).
 */
final class ExportRecords {
  private ExportRecords() {}

  /** The record {@code wire} of class {@code cls}, its references rewritten through {@code ids}. */
  static Map<String, Object> rewrite(
      XClass<?> cls, Map<String, Object> wire, Map<String, String> ids) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Field<?, ?> f : cls.fields()) {
      Object v = wire.get(f.name());
      if (f.type() == FieldType.REF) {
        v = ids.getOrDefault(String.valueOf(v), Ref.NULL_VALUE);
      } else if (f.type() == FieldType.REF_SET && v instanceof List<?> l) {
        List<String> kept = new ArrayList<>();
        for (Object r : l) {
          String id = ids.get(String.valueOf(r));
          if (id != null) {
            kept.add(id);
          }
        }
        v = kept;
      }
      out.put(f.name(), v);
    }
    blank(out, "current_operations", Map.of());
    blank(out, "allowed_operations", List.of());
    blank(out, "blobs", Map.of());
    switch (cls.name()) {
      case "VM" -> vm(out);
      case "VBD", "VIF" -> {
        out.put("currently_attached", false);
        out.put("metrics", Ref.NULL_VALUE);
      }
      case "network" -> out.put("PIFs", List.of());
      case "SR" -> out.put("PBDs", List.of());
      case "VDI" -> out.put("crash_dumps", List.of());
      case "host" -> {
        for (String k :
            List.of(
                "license_params",
                "other_config",
                "capabilities",
                "software_version",
                "logging",
                "cpu_configuration",
                "external_auth_configuration")) {
          blank(out, k, Map.of());
        }
        blank(out, "external_auth_type", "");
        blank(out, "external_auth_service_name", "");
      }
      default -> {}
    }
    return out;
  }

  /**
   * A VM as xapi's plain export writes it (no snapshot metadata, power state not preserved):
   * Halted, no suspend image, and not a snapshot. xapi's snapshots are templates, so an exported
   * snapshot imports as a template; xsm's snapshot records do not set {@code is_a_template}, so it
   * is set here from {@code is_a_snapshot}.
   */
  private static void vm(Map<String, Object> vm) {
    boolean snapshot = Boolean.TRUE.equals(vm.get("is_a_snapshot"));
    if (snapshot) {
      vm.put("is_a_template", true);
    }
    vm.put("power_state", "Halted");
    vm.put("suspend_VDI", Ref.NULL_VALUE);
    vm.put("is_a_snapshot", false);
    vm.put("snapshot_of", Ref.NULL_VALUE);
    vm.put("snapshots", List.of());
    vm.put("snapshot_time", Instant.EPOCH);
    vm.put("transportable_snapshot_id", "");
    vm.put("parent", Ref.NULL_VALUE);
    vm.put("crash_dumps", List.of());
    vm.put("consoles", List.of());
    vm.put("protection_policy", Ref.NULL_VALUE);
    vm.put("domid", -1L);
  }

  private static void blank(Map<String, Object> r, String field, Object value) {
    if (r.containsKey(field)) {
      r.put(field, value);
    }
  }
}
