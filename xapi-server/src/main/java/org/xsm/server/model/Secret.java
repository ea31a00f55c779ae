package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RW;

import java.util.Map;

/** The XenAPI class {@code secret}. */
public final class Secret {
  private Secret() {}

  public static final XClass<Secret> CLASS =
      new XClass<Secret>("secret").without(XClass.Generic.EVENTS);
  public static final Field<Secret, String> UUID = CLASS.uuid();
  public static final Field<Secret, String> VALUE = CLASS.string("value", RW);
  public static final Field<Secret, Map<String, String>> OTHER_CONFIG =
      CLASS.map("other_config", RW);
}
