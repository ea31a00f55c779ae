package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code pool}. */
public final class Pool {
  private Pool() {}

  public static final XClass<Pool> CLASS = new XClass<>("pool");
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
}
