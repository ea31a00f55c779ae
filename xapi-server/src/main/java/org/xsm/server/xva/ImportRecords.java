package org.xsm.server.xva;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.xsm.server.model.Field;
import org.xsm.server.model.FieldType;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Values;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.WireValues;

/**
 * An ova.xml record as the fields of a new record here: the stored fields the class has (unknown
 * fields, from a newer xapi, are ignored; missing ones get their defaults), references translated
 * from export ids to the objects made or found by the import ({@code OpaqueRef:NULL} for any
 * other), the UUID left to the caller. A value of the wrong type or an enum value this server does
 * not know falls back to the field's default, logged: an archive from another xapi version still
 * imports.
 */
final class ImportRecords {
  private static final Logger LOG = Logger.getLogger(ImportRecords.class);

  private ImportRecords() {}

  static <C> Values<C> values(
      XClass<C> cls, Map<String, Object> snapshot, Map<String, String> table) {
    Values<C> v = Values.of(cls);
    for (Field<C, ?> f : cls.fields()) {
      if (f.computed() || f.name().equals("uuid") || !snapshot.containsKey(f.name())) {
        continue;
      }
      Object wire = snapshot.get(f.name());
      if (f.type() == FieldType.REF) {
        wire = table.getOrDefault(String.valueOf(wire), Ref.NULL_VALUE);
      } else if (f.type() == FieldType.REF_SET) {
        List<String> mapped = new ArrayList<>();
        if (wire instanceof List<?> l) {
          for (Object r : l) {
            String m = table.get(String.valueOf(r));
            if (m != null) {
              mapped.add(m);
            }
          }
        }
        wire = mapped;
      }
      try {
        v.putStored(f.name(), WireValues.coerce(f, wire));
      } catch (XenApiException e) {
        LOG.infof(
            "import: %s.%s = %s is not a value of this server's (%s): default used",
            cls.name(), f.name(), wire, String.join(" ", e.errorDescription()));
      }
    }
    return v;
  }

  /** A string map field of a record ({@code other_config}...), empty if absent or not a map. */
  static Map<String, String> map(Map<String, Object> snapshot, String field) {
    Map<String, String> out = new LinkedHashMap<>();
    if (snapshot.get(field) instanceof Map<?, ?> m) {
      m.forEach((k, x) -> out.put(String.valueOf(k), String.valueOf(x)));
    }
    return out;
  }

  static String str(Map<String, Object> snapshot, String field) {
    Object v = snapshot.get(field);
    return v == null ? "" : String.valueOf(v);
  }

  static boolean bool(Map<String, Object> snapshot, String field) {
    Object v = snapshot.get(field);
    return Boolean.TRUE.equals(v)
        || "true".equals(String.valueOf(v))
        || "1".equals(String.valueOf(v));
  }

  static long lng(Map<String, Object> snapshot, String field) throws XvaFormatException {
    Object v = snapshot.get(field);
    try {
      return Long.parseLong(String.valueOf(v).strip());
    } catch (NumberFormatException e) {
      throw new XvaFormatException("ova.xml: " + field + " is not a number: " + v);
    }
  }
}
