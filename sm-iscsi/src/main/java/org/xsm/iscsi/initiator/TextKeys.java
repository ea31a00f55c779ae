package org.xsm.iscsi.initiator;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * iSCSI text key-value pairs (RFC 7143 section 6): {@code key=value} strings each ended by a NUL
 * byte, UTF-8. Order is kept: SendTargets answers repeat {@code TargetAddress} after each {@code
 * TargetName}, so decoding yields a list of pairs as well as a map of the last value per key.
 */
final class TextKeys {
  private TextKeys() {}

  /** One decoded pair. */
  record Pair(String key, String value) {}

  static ByteBuffer encode(Map<String, String> keys) {
    StringBuilder sb = new StringBuilder();
    keys.forEach((k, v) -> sb.append(k).append('=').append(v).append('\0'));
    return ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  static List<Pair> decodePairs(ByteBuffer segment) throws IscsiException {
    byte[] bytes = new byte[segment.remaining()];
    segment.duplicate().get(bytes);
    List<Pair> pairs = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= bytes.length; i++) {
      if (i == bytes.length || bytes[i] == 0) {
        if (i > start) {
          String item = new String(bytes, start, i - start, StandardCharsets.UTF_8);
          int eq = item.indexOf('=');
          if (eq <= 0) {
            throw new IscsiException("target sent a text item without a key: \"" + item + "\"");
          }
          pairs.add(new Pair(item.substring(0, eq), item.substring(eq + 1)));
        }
        start = i + 1;
      }
    }
    return pairs;
  }

  static Map<String, String> decode(ByteBuffer segment) throws IscsiException {
    Map<String, String> map = new LinkedHashMap<>();
    for (Pair p : decodePairs(segment)) {
      map.put(p.key(), p.value());
    }
    return map;
  }
}
