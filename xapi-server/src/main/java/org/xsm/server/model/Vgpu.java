package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.Map;

/** The XenAPI class {@code VGPU}. */
public final class Vgpu {
  private Vgpu() {}

  public static final XClass<Vgpu> CLASS = new XClass<>("VGPU");
  public static final Field<Vgpu, String> UUID = CLASS.uuid();
  public static final Field<Vgpu, Ref<Vm>> VM = CLASS.ref("VM", "VM", RO);
  public static final Field<Vgpu, String> DEVICE = CLASS.string("device", RO);
  public static final Field<Vgpu, Boolean> CURRENTLY_ATTACHED =
      CLASS.bool("currently_attached", RO);
  public static final Field<Vgpu, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Vgpu, Ref<Unmodelled>> GPU_GROUP =
      CLASS.ref("GPU_group", "GPU_group", RO);
  public static final Field<Vgpu, Ref<Unmodelled>> TYPE = CLASS.ref("type", "VGPU_type", RO);
  public static final Field<Vgpu, Ref<Unmodelled>> RESIDENT_ON =
      CLASS.ref("resident_on", "PGPU", RO);
  public static final Field<Vgpu, Ref<Unmodelled>> SCHEDULED_TO_BE_RESIDENT_ON =
      CLASS.ref("scheduled_to_be_resident_on", "PGPU", RO);
  public static final Field<Vgpu, Map<String, String>> COMPATIBILITY_METADATA =
      CLASS.map("compatibility_metadata", RO);
  public static final Field<Vgpu, String> EXTRA_ARGS = CLASS.string("extra_args", RW);
  public static final Field<Vgpu, Ref<Unmodelled>> PCI = CLASS.ref("PCI", "PCI", RO);
}
