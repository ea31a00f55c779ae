package org.xsm.server.rpc;

import java.util.Map;
import org.xsm.server.model.Field;
import org.xsm.server.model.Values;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/** Wire values checked against the model and turned into stored values. */
public final class WireValues {
  private WireValues() {}

  /** A wire value as the field's stored type; an enum must be one of the field's values. */
  public static Object coerce(Field<?, ?> f, Object v) throws XenApiException {
    String what = f.name();
    return switch (f.type()) {
      case STRING, REF -> v == null ? "" : String.valueOf(v);
      case ENUM -> enumValue(f, v);
      case INT -> Params.lng(v, what);
      case FLOAT -> Params.dbl(v, what);
      case BOOL -> Params.bool(v, what);
      case DATETIME -> Params.time(v, what);
      case STRING_SET, REF_SET -> Params.strings(v, what);
      case MAP -> Params.stringMap(v, what);
    };
  }

  private static Object enumValue(Field<?, ?> f, Object v) throws XenApiException {
    String s = v == null ? "" : String.valueOf(v);
    if (s.isEmpty() || s.equals("UNRECOGNIZED")) {
      // An unset enum in a client's record: the Java SDK sends every field of a record, and an
      // enum it was not given as its UNRECOGNIZED constant.
      return f.defaultValue();
    }
    for (String allowed : f.enumValues()) {
      if (allowed.equalsIgnoreCase(s)) {
        return allowed;
      }
    }
    throw new XenApiException(
        XenApiError.FIELD_TYPE_ERROR, f.name(), "expected one of " + f.enumValues());
  }

  /**
   * The stored fields a client's record argument sets ({@code VM.create(args)}): unknown keys and
   * computed fields are ignored, as xapi ignores them, and the UUID is the server's to choose.
   */
  public static <C> Values<C> fromRecord(XClass<C> c, Map<String, Object> args)
      throws XenApiException {
    Values<C> v = Values.of(c);
    for (Map.Entry<String, Object> e : args.entrySet()) {
      Field<C, ?> fs = c.field(e.getKey());
      if (fs != null && !fs.computed() && !fs.name().equals("uuid")) {
        v.putStored(fs.name(), coerce(fs, e.getValue()));
      }
    }
    return v;
  }
}
