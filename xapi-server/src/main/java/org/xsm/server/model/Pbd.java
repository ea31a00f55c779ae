package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.Map;

/** The XenAPI class {@code PBD}. */
public final class Pbd {
  private Pbd() {}

  public static final XClass<Pbd> CLASS = new XClass<>("PBD");
  public static final Field<Pbd, String> UUID = CLASS.uuid();
  public static final Field<Pbd, Ref<Host>> HOST = CLASS.ref("host", "host", RO);
  public static final Field<Pbd, Ref<Sr>> SR = CLASS.ref("SR", "SR", RO);
  public static final Field<Pbd, Map<String, String>> DEVICE_CONFIG =
      CLASS.map("device_config", RO);
  public static final Field<Pbd, Boolean> CURRENTLY_ATTACHED = CLASS.bool("currently_attached", RO);
  public static final Field<Pbd, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
}
