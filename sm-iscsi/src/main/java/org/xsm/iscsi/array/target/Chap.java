package org.xsm.iscsi.array.target;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * One-way CHAP with MD5 (RFC 1994, as iSCSI uses it in RFC 7143 section 12.1.3): the target sends
 * an identifier and a random challenge; the initiator answers MD5(id, secret, challenge).
 */
final class Chap {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();

  final int id;
  final byte[] challenge;

  private Chap(int id, byte[] challenge) {
    this.id = id;
    this.challenge = challenge;
  }

  static Chap newChallenge() {
    byte[] c = new byte[16];
    RANDOM.nextBytes(c);
    return new Chap(RANDOM.nextInt(256), c);
  }

  String challengeHex() {
    return "0x" + HEX.formatHex(challenge);
  }

  /** True if {@code responseValue} (0x-hex or 0b-base64) is the right answer for {@code secret}. */
  boolean verify(String secret, String responseValue) {
    byte[] given = decode(responseValue);
    return given != null && MessageDigest.isEqual(given, expected(secret));
  }

  byte[] expected(String secret) {
    try {
      MessageDigest md5 = MessageDigest.getInstance("MD5");
      md5.update((byte) id);
      md5.update(secret.getBytes(StandardCharsets.UTF_8));
      md5.update(challenge);
      return md5.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has MD5", e);
    }
  }

  static byte[] decode(String v) {
    try {
      if (v.startsWith("0x") || v.startsWith("0X")) {
        String hex = v.substring(2);
        return HEX.parseHex(hex.length() % 2 == 0 ? hex : "0" + hex);
      }
      if (v.startsWith("0b") || v.startsWith("0B")) {
        return java.util.Base64.getDecoder().decode(v.substring(2));
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
    return null;
  }
}
