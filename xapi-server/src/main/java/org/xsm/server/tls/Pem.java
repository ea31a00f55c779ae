package org.xsm.server.tls;

import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/** PEM encoding and decoding of keys and certificates, and the key-pair check. */
public final class Pem {
  private Pem() {}

  public static String encode(String type, byte[] der) {
    String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
  }

  /** The DER inside the first PEM block of {@code type}, or null. */
  static byte[] decode(String pem, String type) {
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    int b = pem.indexOf(begin);
    int e = pem.indexOf(end, b + 1);
    if (b < 0 || e < 0) {
      return null;
    }
    try {
      return Base64.getMimeDecoder().decode(pem.substring(b + begin.length(), e));
    } catch (IllegalArgumentException x) {
      return null;
    }
  }

  /** A PKCS#8 private key ({@code PRIVATE KEY}), RSA or EC. */
  static PrivateKey privateKey(String pem) throws XenApiException {
    byte[] der = pem == null ? null : decode(pem, "PRIVATE KEY");
    if (der == null) {
      throw new XenApiException(XenApiError.SERVER_CERTIFICATE_KEY_INVALID);
    }
    for (String alg : new String[] {"RSA", "EC"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (java.security.GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new XenApiException(XenApiError.SERVER_CERTIFICATE_KEY_ALGORITHM_NOT_SUPPORTED);
  }

  /** Whether the private key belongs to the public key (a signature made and checked). */
  static boolean matches(PrivateKey key, PublicKey pub) {
    if (key instanceof RSAPrivateCrtKey k && pub instanceof RSAPublicKey p) {
      return k.getModulus().equals(p.getModulus());
    }
    try {
      String alg = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
      byte[] probe = "xsm key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(pub);
      v.update(probe);
      return v.verify(sig);
    } catch (java.security.GeneralSecurityException e) {
      return false;
    }
  }
}
