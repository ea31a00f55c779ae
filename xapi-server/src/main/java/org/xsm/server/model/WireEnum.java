package org.xsm.server.model;

/** A XenAPI enumeration: each constant knows its wire name, exactly as XenAPI spells it. */
public interface WireEnum {
  String wire();

  /** The constant of {@code type} whose wire name is {@code wire} (case-insensitively), or null. */
  static <E extends Enum<E> & WireEnum> E parse(Class<E> type, String wire) {
    for (E e : type.getEnumConstants()) {
      if (e.wire().equalsIgnoreCase(wire)) {
        return e;
      }
    }
    return null;
  }
}
