package org.xsm.server.model;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One field of a XenAPI class, declared once in the class's model file ({@link Vm#POWER_STATE}):
 * its wire name, type, default, whether clients may set it, and for references the class pointed
 * to. The value type {@code T} is what feature code reads and writes (a {@link PowerState}, a
 * {@link Ref}); the database keeps the stored form (the wire form: strings, longs, lists, maps),
 * converted by {@link #decode} and {@link #encode}.
 *
 * @param <C> the model class the field belongs to
 * @param <T> the typed value
 */
public final class Field<C, T> {
  /** Whether clients may change a field ({@code set_x}, {@code add_to_x}...). */
  public enum Access {
    RO,
    RW
  }

  private final XClass<C> owner;
  private final String name;
  private final FieldType type;
  private final Access access;
  private final Object storedDefault;
  private final String refClass;
  private final String inverseOf;
  private final Class<? extends Enum<?>> enumType;
  private final boolean indexed;

  Field(
      XClass<C> owner,
      String name,
      FieldType type,
      Access access,
      Object storedDefault,
      String refClass,
      String inverseOf,
      Class<? extends Enum<?>> enumType,
      boolean indexed) {
    this.owner = owner;
    this.name = name;
    this.type = type;
    this.access = access;
    this.storedDefault = storedDefault;
    this.refClass = refClass;
    this.inverseOf = inverseOf;
    this.enumType = enumType;
    this.indexed = indexed;
  }

  public XClass<C> owner() {
    return owner;
  }

  /** The wire name ({@code name_label}, {@code snapshot_of}). */
  public String name() {
    return name;
  }

  public FieldType type() {
    return type;
  }

  public boolean writable() {
    return access == Access.RW;
  }

  /** For REF and REF_SET: the class referred to. */
  public String refClass() {
    return refClass;
  }

  /**
   * For the computed "many" side of a relation (VM.VBDs): the REF field of {@link #refClass} that
   * points back (VBD.VM); null for stored fields.
   */
  public String inverseOf() {
    return inverseOf;
  }

  /** Computed from an index, never stored (the many side of a relation). */
  public boolean computed() {
    return inverseOf != null;
  }

  /** Whether the database keeps an index from this field's value to its records. */
  public boolean indexed() {
    return indexed || type == FieldType.REF;
  }

  /** The wire names an ENUM field accepts, or null for other types. */
  public List<String> enumValues() {
    if (enumType == null) {
      return null;
    }
    List<String> out = new ArrayList<>();
    for (Enum<?> e : enumType.getEnumConstants()) {
      out.add(((WireEnum) e).wire());
    }
    return out;
  }

  /** The stored value of a new record that does not set this field. */
  public Object defaultValue() {
    if (storedDefault != null) {
      return storedDefault;
    }
    return switch (type) {
      case STRING, ENUM -> "";
      case INT -> 0L;
      case FLOAT -> 0.0;
      case BOOL -> false;
      case DATETIME -> Instant.EPOCH;
      case REF -> Ref.NULL_VALUE;
      case STRING_SET, REF_SET -> List.of();
      case MAP -> Map.of();
    };
  }

  /** The typed value of a stored one. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public T decode(Object stored) {
    Object v = stored == null ? defaultValue() : stored;
    return (T)
        switch (type) {
          case ENUM -> WireEnum.parse((Class) enumType, (String) v);
          case REF -> Ref.of((String) v);
          case REF_SET -> ((List<String>) v).stream().map(Ref::of).toList();
          case STRING_SET -> List.copyOf((List<String>) v);
          case MAP -> copyMap((Map<String, ?>) v);
          default -> v;
        };
  }

  /** The stored form of a typed value. */
  @SuppressWarnings("unchecked")
  public Object encode(T value) {
    if (value == null) {
      return defaultValue();
    }
    return switch (type) {
      case ENUM -> ((WireEnum) value).wire();
      case REF -> ((Ref<?>) value).value();
      case REF_SET -> ((List<?>) value).stream().map(r -> ((Ref<?>) r).value()).toList();
      case STRING_SET -> List.copyOf((List<?>) value);
      case MAP -> copyMap((Map<String, ?>) value);
      default -> value;
    };
  }

  private static Map<String, String> copyMap(Map<String, ?> m) {
    Map<String, String> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }

  @Override
  public String toString() {
    return owner.name() + "." + name;
  }
}
