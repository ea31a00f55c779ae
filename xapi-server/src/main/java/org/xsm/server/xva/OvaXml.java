package org.xsm.server.xva;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.XmlRpcCodec;

/**
 * {@code ova.xml}, the first file of an XVA: one XML-RPC value, a struct {@code {version: {...},
 * objects: [{class, id, snapshot}, ...]}} as xapi's importexport.ml declares it. Each object is a
 * database record ({@code snapshot}, the record as {@code get_record} gives it) whose references
 * are the export's own ids ({@code Ref:0}, {@code Ref:1}...) or {@code OpaqueRef:NULL}.
 *
 * <p>Written as xapi's XML-RPC printer writes values: strings bare in {@code <value>}, int64 record
 * fields as strings (the XenAPI wire form), the version's numbers as {@code <i4>}. Read with the
 * server's own XML-RPC parser (no DTDs, no external entities, 16 MiB at most).
 */
final class OvaXml {
  static final String FILE_NAME = "ova.xml";
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuuMMdd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  /** An object of the export: its class ({@code VM}, {@code VDI}...), export id and record. */
  record XvaObject(String cls, String id, Map<String, Object> snapshot) {}

  /**
   * The version struct (xapi's {@code version}): {@code export_vsn} 2 means checksums are inline.
   */
  record Version(
      String hostname,
      String date,
      String productVersion,
      String productBrand,
      String buildNumber,
      int xapiMajor,
      int xapiMinor,
      int exportVsn) {}

  record Header(Version version, List<XvaObject> objects) {
    /** The objects of one class, in archive order. */
    List<XvaObject> of(String cls) {
      return objects.stream().filter(o -> o.cls().equals(cls)).toList();
    }

    /** The object with export id {@code id}, or null. */
    XvaObject find(String id) {
      return objects.stream().filter(o -> o.id().equals(id)).findFirst().orElse(null);
    }
  }

  private OvaXml() {}

  static byte[] encode(Header h) {
    Map<String, Object> v = new LinkedHashMap<>();
    Version x = h.version();
    v.put("hostname", x.hostname());
    v.put("date", x.date());
    v.put("product_version", x.productVersion());
    v.put("product_brand", x.productBrand());
    v.put("build_number", x.buildNumber());
    v.put("xapi_major", x.xapiMajor());
    v.put("xapi_minor", x.xapiMinor());
    v.put("export_vsn", x.exportVsn());
    List<Object> objects = new ArrayList<>();
    for (XvaObject o : h.objects()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("class", o.cls());
      m.put("id", o.id());
      m.put("snapshot", o.snapshot());
      objects.add(m);
    }
    Map<String, Object> top = new LinkedHashMap<>();
    top.put("version", v);
    top.put("objects", objects);
    StringBuilder out = new StringBuilder();
    value(out, top);
    return out.toString().getBytes(UTF_8);
  }

  private static void value(StringBuilder out, Object v) {
    out.append("<value>");
    if (v instanceof Integer i) {
      out.append("<i4>").append(i).append("</i4>");
    } else if (v instanceof Boolean b) {
      out.append("<boolean>").append(b ? '1' : '0').append("</boolean>");
    } else if (v instanceof Double d) {
      out.append("<double>")
          .append(new java.math.BigDecimal(d).toPlainString())
          .append("</double>");
    } else if (v instanceof Instant t) {
      out.append("<dateTime.iso8601>").append(TIME.format(t)).append("</dateTime.iso8601>");
    } else if (v instanceof Map<?, ?> m) {
      out.append("<struct>");
      for (Map.Entry<?, ?> e : m.entrySet()) {
        out.append("<member><name>");
        escape(out, String.valueOf(e.getKey()));
        out.append("</name>");
        value(out, e.getValue());
        out.append("</member>");
      }
      out.append("</struct>");
    } else if (v instanceof Collection<?> c) {
      out.append("<array><data>");
      for (Object item : c) {
        value(out, item);
      }
      out.append("</data></array>");
    } else if (v != null) {
      escape(out, v.toString()); // strings, and int64 as XenAPI sends them
    }
    out.append("</value>");
  }

  private static void escape(StringBuilder out, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '\r' -> out.append("&#13;");
        default -> {
          if (c >= 0x20 || c == '\t' || c == '\n') {
            out.append(c);
          }
        }
      }
    }
  }

  /** Parses ova.xml; anything but the documented shape is an {@link XvaFormatException}. */
  static Header decode(byte[] xml) throws XvaFormatException {
    String s = new String(xml, UTF_8).strip();
    if (s.startsWith("<?xml")) {
      int end = s.indexOf("?>");
      s = end < 0 ? s : s.substring(end + 2).strip();
    }
    String call =
        "<methodCall><methodName>ova</methodName><params><param>"
            + s
            + "</param></params></methodCall>";
    Object top;
    try {
      top = XmlRpcCodec.decode(call.getBytes(UTF_8)).params().get(0);
    } catch (XenApiException | IndexOutOfBoundsException e) {
      throw new XvaFormatException("ova.xml is not an XML-RPC value: " + e.getMessage());
    }
    Map<String, Object> m = struct(top, "ova.xml");
    Map<String, Object> v = struct(m.get("version"), "version");
    Version version =
        new Version(
            str(v, "hostname"),
            str(v, "date"),
            str(v, "product_version"),
            str(v, "product_brand"),
            str(v, "build_number"),
            num(v, "xapi_major", -1),
            num(v, "xapi_minor", -1),
            num(v, "export_vsn", 0));
    if (!(m.get("objects") instanceof List<?> list)) {
      throw new XvaFormatException("ova.xml has no objects array");
    }
    List<XvaObject> objects = new ArrayList<>();
    for (Object o : list) {
      Map<String, Object> om = struct(o, "object");
      objects.add(
          new XvaObject(str(om, "class"), str(om, "id"), struct(om.get("snapshot"), "snapshot")));
    }
    return new Header(version, objects);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> struct(Object o, String what) throws XvaFormatException {
    if (o instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    throw new XvaFormatException("ova.xml: " + what + " is not a struct");
  }

  private static String str(Map<String, Object> m, String k) throws XvaFormatException {
    Object v = m.get(k);
    if (v == null) {
      throw new XvaFormatException("ova.xml: missing '" + k + "'");
    }
    return String.valueOf(v);
  }

  private static int num(Map<String, Object> m, String k, int absent) throws XvaFormatException {
    Object v = m.get(k);
    if (v == null) {
      return absent;
    }
    try {
      return Integer.parseInt(String.valueOf(v).strip());
    } catch (NumberFormatException e) {
      throw new XvaFormatException("ova.xml: '" + k + "' is not a number: " + v);
    }
  }
}
