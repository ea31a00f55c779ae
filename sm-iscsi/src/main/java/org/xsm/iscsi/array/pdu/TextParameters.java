package org.xsm.iscsi.array.pdu;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The key=value text of login and text PDUs (RFC 7143 section 6): NUL-terminated UTF-8 pairs, kept
 * in the order received.
 */
public final class TextParameters {
  private TextParameters() {}

  /** Parses {@code len} bytes of {@code data}; a pair without '=' gets an empty value. */
  public static Map<String, String> parse(byte[] data, int len) {
    Map<String, String> out = new LinkedHashMap<>();
    int start = 0;
    for (int i = 0; i <= len; i++) {
      if (i == len || data[i] == 0) {
        if (i > start) {
          String pair = new String(data, start, i - start, StandardCharsets.UTF_8);
          int eq = pair.indexOf('=');
          if (eq < 0) {
            out.put(pair, "");
          } else {
            out.put(pair.substring(0, eq), pair.substring(eq + 1));
          }
        }
        start = i + 1;
      }
    }
    return out;
  }

  /** Encodes pairs as {@code key=value\0...}. */
  public static byte[] encode(Map<String, String> pairs) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Map.Entry<String, String> e : pairs.entrySet()) {
      out.writeBytes((e.getKey() + "=" + e.getValue()).getBytes(StandardCharsets.UTF_8));
      out.write(0);
    }
    return out.toByteArray();
  }
}
