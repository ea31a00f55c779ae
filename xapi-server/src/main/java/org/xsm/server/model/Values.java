package org.xsm.server.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Field values for a new record or a change of one, typed on the way in: {@code
 * Values.of(Vm.CLASS).with(Vm.NAME_LABEL, "web").with(Vm.POWER_STATE, PowerState.HALTED)}.
 *
 * @param <C> the model class
 */
public final class Values<C> {
  private final XClass<C> cls;
  private final Map<String, Object> stored = new LinkedHashMap<>();

  private Values(XClass<C> cls) {
    this.cls = cls;
  }

  public static <C> Values<C> of(XClass<C> cls) {
    return new Values<>(cls);
  }

  public XClass<C> cls() {
    return cls;
  }

  public <T> Values<C> with(Field<C, T> f, T value) {
    if (f.computed()) {
      throw new IllegalArgumentException(f + " is computed, not stored");
    }
    stored.put(f.name(), f.encode(value));
    return this;
  }

  public Values<C> without(Field<C, ?> f) {
    stored.remove(f.name());
    return this;
  }

  public boolean has(Field<C, ?> f) {
    return stored.containsKey(f.name());
  }

  public boolean isEmpty() {
    return stored.isEmpty();
  }

  /**
   * A value already in stored form (a wire value checked by the caller against the field's type):
   * for the schema-driven paths, generic setters and record copies.
   */
  public Values<C> putStored(String name, Object value) {
    Field<C, ?> f = cls.field(name);
    if (f == null || f.computed()) {
      throw new IllegalArgumentException("not a stored field: " + cls.name() + "." + name);
    }
    stored.put(name, value);
    return this;
  }

  /** The values in stored form, by wire name. */
  public Map<String, Object> stored() {
    return Collections.unmodifiableMap(stored);
  }
}
