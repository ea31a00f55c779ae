package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The XenAPI class {@code VDI}. */
public final class Vdi {
  private Vdi() {}

  public static final XClass<Vdi> CLASS = new XClass<>("VDI");
  public static final Field<Vdi, String> UUID = CLASS.uuid();
  public static final Field<Vdi, String> NAME_LABEL = CLASS.indexedString("name_label", RW);
  public static final Field<Vdi, String> NAME_DESCRIPTION = CLASS.string("name_description", RW);
  public static final Field<Vdi, Ref<Sr>> SR = CLASS.ref("SR", "SR", RO);
  public static final Field<Vdi, List<Ref<Vbd>>> VBDS = CLASS.inverse("VBDs", "VBD", "VDI");
  public static final Field<Vdi, Long> VIRTUAL_SIZE = CLASS.integer("virtual_size", RO);
  public static final Field<Vdi, Long> PHYSICAL_UTILISATION =
      CLASS.integer("physical_utilisation", RO);
  public static final Field<Vdi, VdiType> TYPE =
      CLASS.enumeration("type", VdiType.class, RO, VdiType.USER);
  public static final Field<Vdi, Boolean> SHARABLE = CLASS.bool("sharable", RO);
  public static final Field<Vdi, Boolean> READ_ONLY = CLASS.bool("read_only", RO);
  public static final Field<Vdi, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Vdi, Map<String, String>> XENSTORE_DATA =
      CLASS.map("xenstore_data", RW);
  public static final Field<Vdi, Map<String, String>> SM_CONFIG = CLASS.map("sm_config", RW);
  public static final Field<Vdi, Boolean> STORAGE_LOCK = CLASS.bool("storage_lock", RO);

  /** Where the SR keeps the VDI; indexed, since scans and snapshot links look VDIs up by it. */
  public static final Field<Vdi, String> LOCATION = CLASS.indexedString("location", RO);

  public static final Field<Vdi, Boolean> MANAGED = CLASS.bool("managed", RO, true);
  public static final Field<Vdi, Boolean> MISSING = CLASS.bool("missing", RO);
  public static final Field<Vdi, Ref<Vdi>> PARENT = CLASS.ref("parent", "VDI", RO);
  public static final Field<Vdi, Boolean> IS_A_SNAPSHOT = CLASS.bool("is_a_snapshot", RO);
  public static final Field<Vdi, Ref<Vdi>> SNAPSHOT_OF = CLASS.ref("snapshot_of", "VDI", RO);
  public static final Field<Vdi, List<Ref<Vdi>>> SNAPSHOTS =
      CLASS.inverse("snapshots", "VDI", "snapshot_of");
  public static final Field<Vdi, Instant> SNAPSHOT_TIME = CLASS.datetime("snapshot_time", RO);
  public static final Field<Vdi, List<String>> TAGS = CLASS.strings("tags", RW);
  public static final Field<Vdi, Boolean> ALLOW_CACHING = CLASS.bool("allow_caching", RO);
  public static final Field<Vdi, OnBoot> ON_BOOT =
      CLASS.enumeration("on_boot", OnBoot.class, RO, OnBoot.PERSIST);
  public static final Field<Vdi, Ref<Pool>> METADATA_OF_POOL =
      CLASS.ref("metadata_of_pool", "pool", RO);
  public static final Field<Vdi, Boolean> METADATA_LATEST = CLASS.bool("metadata_latest", RO);
  public static final Field<Vdi, Boolean> IS_TOOLS_ISO = CLASS.bool("is_tools_iso", RO);
  public static final Field<Vdi, Boolean> CBT_ENABLED = CLASS.bool("cbt_enabled", RO);
  public static final Field<Vdi, List<String>> ALLOWED_OPERATIONS =
      CLASS.strings("allowed_operations", RO);
  public static final Field<Vdi, Map<String, String>> CURRENT_OPERATIONS =
      CLASS.map("current_operations", RO);
  public static final Field<Vdi, List<Ref<Unmodelled>>> CRASH_DUMPS =
      CLASS.refs("crash_dumps", "crashdump", RO);
}
