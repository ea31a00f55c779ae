package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.Map;

/** The XenAPI class {@code user}. */
public final class User {
  private User() {}

  public static final XClass<User> CLASS =
      new XClass<User>("user").without(XClass.Generic.LISTINGS, XClass.Generic.EVENTS);
  public static final Field<User, String> UUID = CLASS.uuid();
  public static final Field<User, String> SHORT_NAME = CLASS.indexedString("short_name", RO);
  public static final Field<User, String> FULLNAME = CLASS.string("fullname", RW);
  public static final Field<User, Map<String, String>> OTHER_CONFIG = CLASS.map("other_config", RW);
}
