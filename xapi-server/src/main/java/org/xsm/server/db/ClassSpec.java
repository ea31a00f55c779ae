package org.xsm.server.db;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** A XenAPI class and its fields, in wire order. */
public final class ClassSpec {
  private final String name;
  private final Map<String, FieldSpec> fields = new LinkedHashMap<>();

  ClassSpec(String name) {
    this.name = name;
    field("uuid", FieldType.STRING, false);
  }

  public String name() {
    return name;
  }

  public Collection<FieldSpec> fields() {
    return fields.values();
  }

  public FieldSpec field(String n) {
    return fields.get(n);
  }

  public boolean has(String n) {
    return fields.containsKey(n);
  }

  ClassSpec field(String n, FieldType t, boolean writable) {
    fields.put(n, new FieldSpec(n, t, null, null, writable, null));
    return this;
  }

  ClassSpec field(String n, FieldType t, boolean writable, Object def) {
    fields.put(n, new FieldSpec(n, t, null, null, writable, def));
    return this;
  }

  ClassSpec ref(String n, String cls, boolean writable) {
    fields.put(n, new FieldSpec(n, FieldType.REF, cls, null, writable, null));
    return this;
  }

  /** A stored set of references (not the inverse of a relation). */
  ClassSpec refs(String n, String cls, boolean writable) {
    fields.put(n, new FieldSpec(n, FieldType.REF_SET, cls, null, writable, null));
    return this;
  }

  /** The computed "many" side of a relation: records of {@code cls} whose {@code back} is this. */
  ClassSpec inverse(String n, String cls, String back) {
    fields.put(n, new FieldSpec(n, FieldType.REF_SET, cls, back, false, null));
    return this;
  }

  ClassSpec named() {
    field("name_label", FieldType.STRING, true);
    field("name_description", FieldType.STRING, true);
    return this;
  }

  ClassSpec rw(String... names) {
    for (String n : names) {
      fields.put(n, new FieldSpec(n, FieldType.STRING, null, null, true, null));
    }
    return this;
  }

  ClassSpec maps(String... names) {
    for (String n : names) {
      fields.put(n, new FieldSpec(n, FieldType.MAP, null, null, true, null));
    }
    return this;
  }
}
