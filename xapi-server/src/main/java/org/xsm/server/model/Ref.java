package org.xsm.server.model;

/**
 * A reference to a XenAPI object of class {@code C} ({@code OpaqueRef:...}), as clients see it. The
 * type parameter is the marker class of the model ({@link Vm}, {@link Vdi}...), so a VBD's {@code
 * VM} cannot be passed where a VDI is expected.
 */
public record Ref<C>(String value) {
  /** xapi's null reference. */
  public static final String NULL_VALUE = "OpaqueRef:NULL";

  public Ref {
    value = value == null || value.isEmpty() ? NULL_VALUE : value;
  }

  @SuppressWarnings("unchecked")
  public static <C> Ref<C> nullRef() {
    return (Ref<C>) NULL;
  }

  private static final Ref<Object> NULL = new Ref<>(NULL_VALUE);

  public static <C> Ref<C> of(String value) {
    return new Ref<>(value);
  }

  public boolean isNull() {
    return NULL_VALUE.equals(value);
  }

  @Override
  public String toString() {
    return value;
  }
}
