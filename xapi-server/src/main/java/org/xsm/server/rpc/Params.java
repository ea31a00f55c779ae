package org.xsm.server.rpc;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/** Conversions of wire parameters, which arrive typed or untyped (ints as strings or numbers). */
public final class Params {
  private Params() {}

  public static String str(List<Object> a, int i) throws XenApiException {
    Object v = a.get(i);
    if (v == null) {
      return "";
    }
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Long || v instanceof Integer || v instanceof Boolean || v instanceof Double) {
      return String.valueOf(v);
    }
    throw new XenApiException(XenApiError.FIELD_TYPE_ERROR, "parameter " + i + " must be a string");
  }

  /** A reference parameter (typed by the caller's use of it). */
  public static <C> org.xsm.server.model.Ref<C> ref(List<Object> a, int i) throws XenApiException {
    return org.xsm.server.model.Ref.of(str(a, i));
  }

  public static long lng(Object v, String what) throws XenApiException {
    if (v instanceof Number n) {
      return n.longValue();
    }
    if (v instanceof String s) {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        throw new XenApiException(XenApiError.FIELD_TYPE_ERROR, what);
      }
    }
    throw new XenApiException(XenApiError.FIELD_TYPE_ERROR, what);
  }

  public static double dbl(Object v, String what) throws XenApiException {
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof String s) {
      try {
        return Double.parseDouble(s.trim());
      } catch (NumberFormatException e) {
        throw new XenApiException(XenApiError.FIELD_TYPE_ERROR, what);
      }
    }
    throw new XenApiException(XenApiError.FIELD_TYPE_ERROR, what);
  }

  public static boolean bool(Object v, String what) throws XenApiException {
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s) {
      if (s.equalsIgnoreCase("true") || s.equals("1")) {
        return true;
      }
      if (s.equalsIgnoreCase("false") || s.equals("0")) {
        return false;
      }
    }
    if (v instanceof Number n) {
      return n.longValue() != 0;
    }
    throw new XenApiException(XenApiError.FIELD_TYPE_ERROR, what);
  }

  public static Instant time(Object v, String what) throws XenApiException {
    if (v instanceof Instant t) {
      return t;
    }
    if (v instanceof String s) {
      try {
        String iso =
            s.length() >= 15 && s.charAt(8) == 'T' && s.indexOf('-') < 0
                ? s.substring(0, 4)
                    + "-"
                    + s.substring(4, 6)
                    + "-"
                    + s.substring(6, 11)
                    + ":"
                    + s.substring(11, 13)
                    + ":"
                    + s.substring(13, 15)
                    + "Z"
                : s;
        return Instant.parse(iso);
      } catch (RuntimeException e) {
        throw new XenApiException(XenApiError.FIELD_TYPE_ERROR, what);
      }
    }
    throw new XenApiException(XenApiError.FIELD_TYPE_ERROR, what);
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> map(Object v, String what) throws XenApiException {
    if (v instanceof Map<?, ?> m) {
      return new LinkedHashMap<>((Map<String, Object>) m);
    }
    if (v == null || "".equals(v)) {
      return new LinkedHashMap<>();
    }
    throw new XenApiException(XenApiError.FIELD_TYPE_ERROR, what);
  }

  public static Map<String, String> stringMap(Object v, String what) throws XenApiException {
    Map<String, String> m = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : map(v, what).entrySet()) {
      m.put(e.getKey(), e.getValue() == null ? "" : String.valueOf(e.getValue()));
    }
    return m;
  }

  public static List<String> strings(Object v, String what) throws XenApiException {
    List<String> out = new ArrayList<>();
    if (v instanceof List<?> l) {
      for (Object o : l) {
        out.add(String.valueOf(o));
      }
      return out;
    }
    if (v == null || "".equals(v)) {
      return out;
    }
    throw new XenApiException(XenApiError.FIELD_TYPE_ERROR, what);
  }
}
