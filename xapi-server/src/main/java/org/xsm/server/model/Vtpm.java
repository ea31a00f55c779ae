package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;

/** The XenAPI class {@code VTPM}. */
public final class Vtpm {
  private Vtpm() {}

  public static final XClass<Vtpm> CLASS = new XClass<>("VTPM");
  public static final Field<Vtpm, String> UUID = CLASS.uuid();
  public static final Field<Vtpm, Ref<Vm>> VM = CLASS.ref("VM", "VM", RO);
  public static final Field<Vtpm, Ref<Vm>> BACKEND = CLASS.ref("backend", "VM", RO);
}
