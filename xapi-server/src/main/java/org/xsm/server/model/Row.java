package org.xsm.server.model;

/**
 * A record as it was when read, with typed reads of its fields ({@code row.get(Vm.POWER_STATE)};
 * computed relation fields such as VM.VBDs come from the database's index).
 *
 * @param <C> the model class
 */
public interface Row<C> {
  Ref<C> ref();

  XClass<C> cls();

  <T> T get(Field<C, T> f);

  /** Every stored field, as stored (a copy), to make a new record from this one. */
  Values<C> storedValues();
}
