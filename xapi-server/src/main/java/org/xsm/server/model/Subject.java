package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code subject}. */
public final class Subject {
  private Subject() {}

  public static final XClass<Subject> CLASS = new XClass<>("subject");
  public static final Field<Subject, String> UUID = CLASS.uuid();
  public static final Field<Subject, String> SUBJECT_IDENTIFIER =
      CLASS.indexedString("subject_identifier", RO);
  public static final Field<Subject, Map<String, String>> OTHER_CONFIG =
      CLASS.map("other_config", RO);
  public static final Field<Subject, List<Ref<Role>>> ROLES = CLASS.refs("roles", "role", RO);
}
