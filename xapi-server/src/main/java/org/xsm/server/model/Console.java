package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.Map;

/** The XenAPI class {@code console}. */
public final class Console {
  private Console() {}

  public static final XClass<Console> CLASS = new XClass<>("console");
  public static final Field<Console, String> UUID = CLASS.uuid();
  public static final Field<Console, ConsoleProtocol> PROTOCOL =
      CLASS.enumeration("protocol", ConsoleProtocol.class, RO, ConsoleProtocol.RFB);
  public static final Field<Console, String> LOCATION = CLASS.string("location", RO);
  public static final Field<Console, Ref<Vm>> VM = CLASS.ref("VM", "VM", RO);
  public static final Field<Console, Map<String, String>> OTHER_CONFIG =
      CLASS.map("other_config", RW);
}
