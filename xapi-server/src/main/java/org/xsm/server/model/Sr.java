package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code SR}. */
public final class Sr {
  private Sr() {}

  public static final XClass<Sr> CLASS = new XClass<>("SR");
  public static final Field<Sr, String> UUID = CLASS.uuid();
  public static final Field<Sr, String> NAME_LABEL = CLASS.indexedString("name_label", RW);
  public static final Field<Sr, String> NAME_DESCRIPTION = CLASS.string("name_description", RW);
  public static final Field<Sr, List<Ref<Vdi>>> VDIS = CLASS.inverse("VDIs", "VDI", "SR");
  public static final Field<Sr, List<Ref<Pbd>>> PBDS = CLASS.inverse("PBDs", "PBD", "SR");
  public static final Field<Sr, Long> VIRTUAL_ALLOCATION = CLASS.integer("virtual_allocation", RO);
  public static final Field<Sr, Long> PHYSICAL_UTILISATION =
      CLASS.integer("physical_utilisation", RO);
  public static final Field<Sr, Long> PHYSICAL_SIZE = CLASS.integer("physical_size", RO);
  public static final Field<Sr, String> TYPE = CLASS.string("type", RO);
  public static final Field<Sr, String> CONTENT_TYPE = CLASS.string("content_type", RO);
  public static final Field<Sr, Boolean> SHARED = CLASS.bool("shared", RW);
  public static final Field<Sr, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Sr, Map<String, String>> SM_CONFIG = CLASS.map("sm_config", RW);
  public static final Field<Sr, List<String>> TAGS = CLASS.strings("tags", RW);
  public static final Field<Sr, List<String>> ALLOWED_OPERATIONS =
      CLASS.strings("allowed_operations", RO);
  public static final Field<Sr, Map<String, String>> CURRENT_OPERATIONS =
      CLASS.map("current_operations", RO);
  public static final Field<Sr, Boolean> LOCAL_CACHE_ENABLED =
      CLASS.bool("local_cache_enabled", RO);
  public static final Field<Sr, Ref<Object>> INTRODUCED_BY =
      CLASS.ref("introduced_by", "DR_task", RO);
  public static final Field<Sr, Boolean> CLUSTERED = CLASS.bool("clustered", RO);
  public static final Field<Sr, Boolean> IS_TOOLS_SR = CLASS.bool("is_tools_sr", RO);
  public static final Field<Sr, Map<String, String>> BLOBS = CLASS.map("blobs", RO);
}
