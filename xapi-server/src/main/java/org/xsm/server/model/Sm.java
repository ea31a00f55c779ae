package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code SM}. */
public final class Sm {
  private Sm() {}

  public static final XClass<Sm> CLASS = new XClass<>("SM");
  public static final Field<Sm, String> UUID = CLASS.uuid();
  public static final Field<Sm, String> NAME_LABEL = CLASS.indexedString("name_label", RO);
  public static final Field<Sm, String> NAME_DESCRIPTION = CLASS.string("name_description", RO);
  public static final Field<Sm, String> TYPE = CLASS.string("type", RO);
  public static final Field<Sm, String> VENDOR = CLASS.string("vendor", RO);
  public static final Field<Sm, String> COPYRIGHT = CLASS.string("copyright", RO);
  public static final Field<Sm, String> VERSION = CLASS.string("version", RO);
  public static final Field<Sm, String> REQUIRED_API_VERSION =
      CLASS.string("required_api_version", RO);
  public static final Field<Sm, Map<String, String>> CONFIGURATION = CLASS.map("configuration", RO);
  public static final Field<Sm, List<String>> CAPABILITIES = CLASS.strings("capabilities", RO);
  public static final Field<Sm, Map<String, String>> FEATURES = CLASS.map("features", RO);
  public static final Field<Sm, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Sm, String> DRIVER_FILENAME = CLASS.string("driver_filename", RO);
  public static final Field<Sm, List<String>> REQUIRED_CLUSTER_STACK =
      CLASS.strings("required_cluster_stack", RO);
}
