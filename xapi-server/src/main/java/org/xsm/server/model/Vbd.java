package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code VBD}. */
public final class Vbd {
  private Vbd() {}

  public static final XClass<Vbd> CLASS = new XClass<>("VBD");
  public static final Field<Vbd, String> UUID = CLASS.uuid();
  public static final Field<Vbd, Ref<Vm>> VM = CLASS.ref("VM", "VM", RO);
  public static final Field<Vbd, Ref<Vdi>> VDI = CLASS.ref("VDI", "VDI", RO);
  public static final Field<Vbd, String> DEVICE = CLASS.string("device", RO);
  public static final Field<Vbd, String> USERDEVICE = CLASS.string("userdevice", RW);
  public static final Field<Vbd, Boolean> BOOTABLE = CLASS.bool("bootable", RW);
  public static final Field<Vbd, VbdMode> MODE =
      CLASS.enumeration("mode", VbdMode.class, RW, VbdMode.RW);
  public static final Field<Vbd, VbdType> TYPE =
      CLASS.enumeration("type", VbdType.class, RW, VbdType.DISK);
  public static final Field<Vbd, Boolean> UNPLUGGABLE = CLASS.bool("unpluggable", RW, true);
  public static final Field<Vbd, Boolean> STORAGE_LOCK = CLASS.bool("storage_lock", RO);
  public static final Field<Vbd, Boolean> EMPTY = CLASS.bool("empty", RO);
  public static final Field<Vbd, Boolean> CURRENTLY_ATTACHED = CLASS.bool("currently_attached", RO);
  public static final Field<Vbd, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Vbd, Map<String, String>> QOS_ALGORITHM_PARAMS =
      CLASS.map("qos_algorithm_params", RW);
  public static final Field<Vbd, String> QOS_ALGORITHM_TYPE =
      CLASS.string("qos_algorithm_type", RW);
  public static final Field<Vbd, List<String>> ALLOWED_OPERATIONS =
      CLASS.strings("allowed_operations", RO);
  public static final Field<Vbd, Map<String, String>> CURRENT_OPERATIONS =
      CLASS.map("current_operations", RO);

  /**
   * Whether a VBD holds a disk: of type Disk and not empty. The one definition of a disk for
   * snapshots, clones, copies and starts (a CD or an empty drive is carried over as it is).
   */
  public static boolean isDisk(Row<Vbd> vbd) {
    return vbd.get(TYPE) == VbdType.DISK && !vbd.get(EMPTY);
  }

  /** Whether a VBD has something in it (a disk, or a CD with its ISO): what a start plugs. */
  public static boolean hasMedia(Row<Vbd> vbd) {
    return !vbd.get(EMPTY);
  }

  public static final Field<Vbd, Long> STATUS_CODE = CLASS.integer("status_code", RO);
  public static final Field<Vbd, String> STATUS_DETAIL = CLASS.string("status_detail", RO);
  public static final Field<Vbd, Map<String, String>> RUNTIME_PROPERTIES =
      CLASS.map("runtime_properties", RO);
  public static final Field<Vbd, List<String>> QOS_SUPPORTED_ALGORITHMS =
      CLASS.strings("qos_supported_algorithms", RO);
  public static final Field<Vbd, Ref<Unmodelled>> METRICS = CLASS.ref("metrics", "VBD_metrics", RO);
}
