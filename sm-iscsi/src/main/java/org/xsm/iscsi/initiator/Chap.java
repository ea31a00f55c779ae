package org.xsm.iscsi.initiator;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * CHAP with MD5 (RFC 1994, as iSCSI uses it in RFC 7143 section 12.1.3): the response is {@code
 * MD5(identifier byte || secret || challenge)}. Challenges and responses travel as {@code 0x}-hex
 * (base64 {@code 0b} challenges are accepted too).
 */
final class Chap {
  /** The CHAP algorithm number of MD5. */
  static final String ALGORITHM_MD5 = "5";

  private Chap() {}

  static String response(String identifier, String secret, String challenge) throws IscsiException {
    int id;
    try {
      id = Integer.parseInt(identifier.trim());
    } catch (NumberFormatException e) {
      throw new IscsiException("target sent a CHAP_I that is not a number: " + identifier);
    }
    if (id < 0 || id > 255) {
      throw new IscsiException("target sent CHAP_I " + id + ", outside 0..255");
    }
    byte[] c = decodeBinary(challenge, "CHAP_C");
    MessageDigest md5;
    try {
      md5 = MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has MD5", e);
    }
    md5.update((byte) id);
    md5.update(secret.getBytes(StandardCharsets.UTF_8));
    md5.update(c);
    return "0x" + HexFormat.of().formatHex(md5.digest());
  }

  static byte[] decodeBinary(String value, String key) throws IscsiException {
    String v = value.trim();
    try {
      if (v.startsWith("0x") || v.startsWith("0X")) {
        String hex = v.substring(2);
        return HexFormat.of().parseHex(hex.length() % 2 == 0 ? hex : "0" + hex);
      }
      if (v.startsWith("0b") || v.startsWith("0B")) {
        return java.util.Base64.getDecoder().decode(v.substring(2));
      }
    } catch (IllegalArgumentException e) {
      throw new IscsiException("target sent a malformed " + key + ": " + value);
    }
    throw new IscsiException("target sent " + key + " without 0x or 0b prefix: " + value);
  }
}
