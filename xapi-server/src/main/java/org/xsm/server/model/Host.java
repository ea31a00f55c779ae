package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code host}. */
public final class Host {
  private Host() {}

  public static final XClass<Host> CLASS = new XClass<>("host");
  public static final Field<Host, String> UUID = CLASS.uuid();
  public static final Field<Host, String> NAME_LABEL = CLASS.indexedString("name_label", RW);
  public static final Field<Host, String> NAME_DESCRIPTION = CLASS.string("name_description", RW);
  public static final Field<Host, String> HOSTNAME = CLASS.string("hostname", RW);
  public static final Field<Host, String> ADDRESS = CLASS.string("address", RO);
  public static final Field<Host, Boolean> ENABLED = CLASS.bool("enabled", RO, true);
  public static final Field<Host, Long> API_VERSION_MAJOR =
      CLASS.integer("API_version_major", RO, 2);
  public static final Field<Host, Long> API_VERSION_MINOR =
      CLASS.integer("API_version_minor", RO, 21);
  public static final Field<Host, String> API_VERSION_VENDOR =
      CLASS.string("API_version_vendor", RO, "xsm");
  public static final Field<Host, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
  public static final Field<Host, Map<String, String>> SOFTWARE_VERSION =
      CLASS.map("software_version", RO);
  public static final Field<Host, List<Ref<Pbd>>> PBDS = CLASS.inverse("PBDs", "PBD", "host");
  public static final Field<Host, List<Ref<Vm>>> RESIDENT_VMS =
      CLASS.inverse("resident_VMs", "VM", "resident_on");
  public static final Field<Host, List<String>> TAGS = CLASS.strings("tags", RW);
}
