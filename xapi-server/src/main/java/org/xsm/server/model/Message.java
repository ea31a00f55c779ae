package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;

import java.time.Instant;

/** The XenAPI class {@code message}. */
public final class Message {
  private Message() {}

  public static final XClass<Message> CLASS =
      new XClass<Message>("message").without(XClass.Generic.FIELD_ACCESSORS);
  public static final Field<Message, String> UUID = CLASS.uuid();
  public static final Field<Message, String> NAME = CLASS.string("name", RO);
  public static final Field<Message, Long> PRIORITY = CLASS.integer("priority", RO);
  public static final Field<Message, MessageClass> CLS =
      CLASS.enumeration("cls", MessageClass.class, RO, MessageClass.HOST);
  public static final Field<Message, String> OBJ_UUID = CLASS.indexedString("obj_uuid", RO);
  public static final Field<Message, Instant> TIMESTAMP = CLASS.datetime("timestamp", RO);
  public static final Field<Message, String> BODY = CLASS.string("body", RO);
}
