package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;

import java.util.List;

/** The XenAPI class {@code role}. */
public final class Role {
  private Role() {}

  public static final XClass<Role> CLASS = new XClass<>("role");
  public static final Field<Role, String> UUID = CLASS.uuid();
  public static final Field<Role, String> NAME_LABEL = CLASS.indexedString("name_label", RO);
  public static final Field<Role, String> NAME_DESCRIPTION = CLASS.string("name_description", RO);
  public static final Field<Role, List<Ref<Role>>> SUBROLES = CLASS.refs("subroles", "role", RO);
}
