package org.xsm.server.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes the host's self-signed certificate, as xapi does at first boot: RSA 2048, SHA-256, ten
 * years, the host name as subject, and every name and address of the host in its subject
 * alternative names (so clients that check names accept it on each of them). It is its own CA
 * (basic constraints CA, path length 0), so clients can install it as their trust anchor.
 */
final class CertificateMaker {
  private CertificateMaker() {}

  record Made(String keyPem, String certPem, String subject) {}

  static Made selfSigned() throws GeneralSecurityException, IOException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair kp = g.generateKeyPair();
    String host = hostname();
    X500Name name = new X500Name("CN=" + host);
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            name,
            new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE),
            Date.from(now.minus(Duration.ofDays(1))),
            Date.from(now.plus(Duration.ofDays(3650))),
            name,
            kp.getPublic());
    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names(host)));
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
    b.addExtension(
        Extension.keyUsage,
        true,
        new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyCertSign));
    b.addExtension(
        Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    X509Certificate cert;
    try {
      cert =
          new JcaX509CertificateConverter()
              .getCertificate(
                  b.build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate())));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign the host certificate", e);
    }
    return new Made(
        Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded()),
        Pem.encode("CERTIFICATE", cert.getEncoded()),
        host);
  }

  static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }

  private static GeneralName[] names(String host) {
    Set<String> dns = new LinkedHashSet<>(List.of(host, "localhost"));
    Set<String> ips = new LinkedHashSet<>(List.of("127.0.0.1", "::1"));
    try {
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress a : Collections.list(nic.getInetAddresses())) {
          if (!a.isLinkLocalAddress()) {
            ips.add(a.getHostAddress().replaceAll("%.*", ""));
          }
        }
      }
    } catch (IOException e) {
      // no interfaces readable: the loopback names stand
    }
    List<GeneralName> out = new ArrayList<>();
    dns.forEach(d -> out.add(new GeneralName(GeneralName.dNSName, d)));
    ips.forEach(i -> out.add(new GeneralName(GeneralName.iPAddress, i)));
    return out.toArray(new GeneralName[0]);
  }
}
