package org.xsm.server.db;

/**
 * One field of a XenAPI class.
 *
 * @param name the wire name ({@code name_label}, {@code snapshot_of})
 * @param refClass for REF and REF_SET: the class referred to
 * @param inverse for a REF_SET that is the "many" side of a relation: the REF field of {@code
 *     refClass} pointing back (e.g. VM.VBDs is the inverse of VBD.VM); such sets are computed
 * @param writable whether {@code set_<name>} (and add/remove for sets and maps) exist
 */
public record FieldSpec(
    String name, FieldType type, String refClass, String inverse, boolean writable, Object def) {

  public boolean computed() {
    return inverse != null;
  }

  /** The default value of a new record. */
  public Object defaultValue() {
    if (def != null) {
      return def;
    }
    return switch (type) {
      case STRING, ENUM -> "";
      case INT -> 0L;
      case FLOAT -> 0.0;
      case BOOL -> false;
      case DATETIME -> java.time.Instant.EPOCH;
      case REF -> Schema.NULL_REF;
      case STRING_SET, REF_SET -> java.util.List.of();
      case MAP -> java.util.Map.of();
    };
  }
}
