package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The XenAPI class {@code session}. */
public final class Session {
  private Session() {}

  public static final XClass<Session> CLASS =
      new XClass<Session>("session").without(XClass.Generic.LISTINGS, XClass.Generic.EVENTS);
  public static final Field<Session, String> UUID = CLASS.uuid();
  public static final Field<Session, Ref<Host>> THIS_HOST = CLASS.ref("this_host", "host", RO);
  public static final Field<Session, Ref<User>> THIS_USER = CLASS.ref("this_user", "user", RO);
  public static final Field<Session, Instant> LAST_ACTIVE = CLASS.datetime("last_active", RO);
  public static final Field<Session, Boolean> POOL = CLASS.bool("pool", RO);
  public static final Field<Session, Boolean> IS_LOCAL_SUPERUSER =
      CLASS.bool("is_local_superuser", RO);
  public static final Field<Session, String> AUTH_USER_NAME = CLASS.string("auth_user_name", RO);
  public static final Field<Session, String> ORIGINATOR = CLASS.string("originator", RO);
  public static final Field<Session, List<String>> RBAC_PERMISSIONS =
      CLASS.strings("rbac_permissions", RO);
  public static final Field<Session, Map<String, String>> OTHER_CONFIG =
      CLASS.map("other_config", RW);
  public static final Field<Session, Ref<Subject>> SUBJECT = CLASS.ref("subject", "subject", RO);
  public static final Field<Session, Instant> VALIDATION_TIME =
      CLASS.datetime("validation_time", RO);
  public static final Field<Session, String> AUTH_USER_SID = CLASS.string("auth_user_sid", RO);
  public static final Field<Session, List<Ref<Task>>> TASKS = CLASS.refs("tasks", "task", RO);
  public static final Field<Session, Ref<Session>> PARENT = CLASS.ref("parent", "session", RO);
}
