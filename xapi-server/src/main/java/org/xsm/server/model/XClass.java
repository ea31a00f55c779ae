package org.xsm.server.model;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.model.Field.Access;

/**
 * A XenAPI class: its wire name and its fields in wire order. Each class is declared once, in its
 * model file ({@link Vm}, {@link Vdi}...), by calling the builder methods below from static
 * initializers; the generic messages, the typed reads and writes, the indexes, the events and the
 * stored form all come from that declaration.
 *
 * @param <C> the model's marker class ({@code Vm}), which types {@link Ref} and {@link Field}
 */
public final class XClass<C> {
  private final String name;
  private final Map<String, Field<C, ?>> fields = new LinkedHashMap<>();
  private final List<Field<C, ?>> order = new ArrayList<>();
  private final java.util.EnumSet<Generic> omitted = java.util.EnumSet.noneOf(Generic.class);

  /** Groups of the generic messages ({@code rpc/GenericMessages}) that a class may lack in xapi. */
  public enum Generic {
    /** {@code get_all} and {@code get_all_records} (session, user). */
    LISTINGS,
    /** {@code get_by_name_label} (pool). */
    BY_NAME_LABEL,
    /** {@code get_<field>}/{@code set_<field>} and the like (message). */
    FIELD_ACCESSORS,
    /** Events: {@code event.from}/{@code next} never report the class (xapi's gen_events false). */
    EVENTS
  }

  XClass(String name) {
    this.name = name;
  }

  /** The wire name ({@code VM}, {@code VDI}, {@code pool}). */
  public String name() {
    return name;
  }

  /** The fields, in wire order. */
  public List<Field<C, ?>> fields() {
    return Collections.unmodifiableList(order);
  }

  /** A field by wire name, or null. */
  public Field<C, ?> field(String n) {
    return fields.get(n);
  }

  public boolean has(String n) {
    return fields.containsKey(n);
  }

  /**
   * Whether xapi has these generic messages for the class: only xapi's own messages are offered and
   * listed by {@code system.listMethods} (Xen Orchestra, for one, watches every class whose {@code
   * get_all_records} is listed, and cannot fetch {@code session}'s).
   */
  public boolean offers(Generic g) {
    return !omitted.contains(g);
  }

  @Override
  public String toString() {
    return name;
  }

  // ---- declaration ----

  /** Declares generic messages that xapi does not have for this class ({@link #offers}). */
  XClass<C> without(Generic... groups) {
    omitted.addAll(java.util.List.of(groups));
    return this;
  }

  private <T> Field<C, T> add(
      String n,
      FieldType t,
      Access a,
      Object def,
      String refClass,
      String inverse,
      Class<? extends Enum<?>> e,
      boolean indexed) {
    Field<C, T> f = new Field<>(this, n, t, a, def, refClass, inverse, e, indexed);
    if (fields.put(n, f) != null) {
      throw new IllegalStateException(name + "." + n + " is declared twice");
    }
    order.add(f);
    return f;
  }

  Field<C, String> uuid() {
    return add("uuid", FieldType.STRING, Access.RO, null, null, null, null, true);
  }

  Field<C, String> string(String n, Access a) {
    return add(n, FieldType.STRING, a, null, null, null, null, false);
  }

  Field<C, String> string(String n, Access a, String def) {
    return add(n, FieldType.STRING, a, def, null, null, null, false);
  }

  /** A string field with an index from value to records (looked up on request paths). */
  Field<C, String> indexedString(String n, Access a) {
    return add(n, FieldType.STRING, a, null, null, null, null, true);
  }

  Field<C, Long> integer(String n, Access a) {
    return add(n, FieldType.INT, a, null, null, null, null, false);
  }

  Field<C, Long> integer(String n, Access a, long def) {
    return add(n, FieldType.INT, a, def, null, null, null, false);
  }

  Field<C, Double> floating(String n, Access a) {
    return add(n, FieldType.FLOAT, a, null, null, null, null, false);
  }

  Field<C, Double> floating(String n, Access a, double def) {
    return add(n, FieldType.FLOAT, a, def, null, null, null, false);
  }

  Field<C, Boolean> bool(String n, Access a) {
    return add(n, FieldType.BOOL, a, null, null, null, null, false);
  }

  Field<C, Boolean> bool(String n, Access a, boolean def) {
    return add(n, FieldType.BOOL, a, def, null, null, null, false);
  }

  Field<C, Instant> datetime(String n, Access a) {
    return add(n, FieldType.DATETIME, a, null, null, null, null, false);
  }

  <E extends Enum<E> & WireEnum> Field<C, E> enumeration(String n, Class<E> type, Access a, E def) {
    return add(n, FieldType.ENUM, a, def.wire(), null, null, type, false);
  }

  <X> Field<C, Ref<X>> ref(String n, String cls, Access a) {
    return add(n, FieldType.REF, a, null, cls, null, null, true);
  }

  Field<C, List<String>> strings(String n, Access a) {
    return add(n, FieldType.STRING_SET, a, null, null, null, null, false);
  }

  /**
   * A stored set of references (role.subroles, pool_update.hosts), as opposed to the computed side
   * of a relation ({@link #inverse}).
   */
  <X> Field<C, List<Ref<X>>> refs(String n, String cls, Access a) {
    return add(n, FieldType.REF_SET, a, null, cls, null, null, false);
  }

  /** The computed "many" side of a relation: records of {@code cls} whose {@code back} is this. */
  <X> Field<C, List<Ref<X>>> inverse(String n, String cls, String back) {
    return add(n, FieldType.REF_SET, Access.RO, null, cls, back, null, false);
  }

  Field<C, Map<String, String>> map(String n, Access a) {
    return add(n, FieldType.MAP, a, null, null, null, null, false);
  }
}
