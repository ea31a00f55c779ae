package org.xsm.server.tls;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * The host's TLS identity: a private key and a certificate in {@code <data>/tls} ({@code host.key},
 * mode 0600, and {@code host.pem}), made self-signed at the first start ({@link CertificateMaker})
 * and replaceable by the operator, either by writing both files and restarting or through {@code
 * host.install_server_certificate}, which checks the pair and reloads it at once. HTTPS and NBD's
 * STARTTLS both serve it; {@code VDI.get_nbd_info} hands its PEM to clients, which trust it.
 *
 * <p>Replacement is crash-safe: each file is written under a temporary name and renamed into place,
 * the key first; a crash between the two renames leaves a key that does not match the certificate,
 * which the next start detects (the pair is checked on load) and then makes a fresh self-signed
 * pair, logging why.
 */
@ApplicationScoped
public class HostCertificate {
  private static final Logger LOG = Logger.getLogger(HostCertificate.class);

  /** The TLS material in use: what was loaded, as one immutable value. */
  public record Identity(
      PrivateKey key,
      List<X509Certificate> chain,
      String keyPem,
      String certPem,
      String subject,
      SSLContext sslContext) {}

  @ConfigProperty(name = "xsm.data-dir", defaultValue = "./xsm-data")
  String dataDir;

  private volatile Identity identity;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  private Path dir() {
    return Path.of(dataDir, "tls");
  }

  public Path keyFile() {
    return dir().resolve("host.key");
  }

  public Path certFile() {
    return dir().resolve("host.pem");
  }

  /** The identity, loaded (or made) on first use. */
  public Identity identity() {
    Identity id = identity;
    if (id == null) {
      synchronized (this) {
        if (identity == null) {
          identity = loadOrMake();
        }
        id = identity;
      }
    }
    return id;
  }

  /** An identity from PEM text, checked as at load (benchmarks and tools). */
  public static Identity fromPem(String keyPem, String certsPem) throws XenApiException {
    return load(keyPem, certsPem);
  }

  /** Called after the identity changes (HTTPS and NBD pick up the new one). */
  public void onChange(Runnable r) {
    listeners.add(r);
  }

  private Identity loadOrMake() {
    if (Files.exists(keyFile()) && Files.exists(certFile())) {
      try {
        return load(Files.readString(keyFile()), Files.readString(certFile()));
      } catch (IOException | XenApiException e) {
        LOG.warnf(
            "The host certificate in %s cannot be used (%s): making a new self-signed one",
            dir(), e.getMessage());
      }
    }
    try {
      CertificateMaker.Made m = CertificateMaker.selfSigned();
      write(m.keyPem(), m.certPem());
      LOG.infof("Made a self-signed host certificate for %s in %s", m.subject(), dir());
      return load(m.keyPem(), m.certPem());
    } catch (IOException | GeneralSecurityException | XenApiException e) {
      throw new IllegalStateException("cannot make the host certificate in " + dir(), e);
    }
  }

  /**
   * host.install_server_certificate: checks that the key and certificate (and chain) parse and
   * belong together, stores them, and serves them from now on.
   */
  public void install(String certPem, String keyPem, String chainPem) throws XenApiException {
    Identity id = load(keyPem, certPem + "\n" + (chainPem == null ? "" : chainPem));
    try {
      write(keyPem, id.certPem());
    } catch (IOException e) {
      throw new XenApiException(
          XenApiError.INTERNAL_ERROR, "cannot store the certificate: " + e.getMessage());
    }
    identity = id;
    LOG.infof("Installed a new host certificate for %s", id.subject());
    listeners.forEach(Runnable::run);
  }

  private void write(String keyPem, String certPem) throws IOException {
    Files.createDirectories(dir());
    Path keyTmp = dir().resolve(".host.key.tmp");
    Files.deleteIfExists(keyTmp);
    Files.createFile(
        keyTmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(keyTmp, keyPem, StandardCharsets.US_ASCII);
    Path certTmp = dir().resolve(".host.pem.tmp");
    Files.writeString(certTmp, certPem, StandardCharsets.US_ASCII);
    Files.move(
        keyTmp, keyFile(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    Files.move(
        certTmp, certFile(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Parses and checks a key and its certificate chain (the server's certificate first). */
  static Identity load(String keyPem, String certsPem) throws XenApiException {
    PrivateKey key = Pem.privateKey(keyPem);
    List<X509Certificate> chain = new ArrayList<>();
    try {
      Collection<? extends java.security.cert.Certificate> all =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(certsPem.getBytes(StandardCharsets.US_ASCII)));
      for (var c : all) {
        chain.add((X509Certificate) c);
      }
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new XenApiException(XenApiError.SERVER_CERTIFICATE_INVALID);
    }
    if (chain.isEmpty()) {
      throw new XenApiException(XenApiError.SERVER_CERTIFICATE_INVALID);
    }
    X509Certificate leaf = chain.get(0);
    try {
      leaf.checkValidity();
    } catch (java.security.cert.CertificateExpiredException e) {
      throw new XenApiException(XenApiError.SERVER_CERTIFICATE_EXPIRED);
    } catch (java.security.cert.CertificateNotYetValidException e) {
      throw new XenApiException(XenApiError.SERVER_CERTIFICATE_NOT_VALID_YET);
    }
    if (!Pem.matches(key, leaf.getPublicKey())) {
      throw new XenApiException(XenApiError.SERVER_CERTIFICATE_KEY_MISMATCH);
    }
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] pw = new char[0];
      ks.setKeyEntry("host", key, pw, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      StringBuilder pem = new StringBuilder();
      for (X509Certificate c : chain) {
        pem.append(Pem.encode("CERTIFICATE", c.getEncoded()));
      }
      return new Identity(key, List.copyOf(chain), keyPem, pem.toString(), subjectName(leaf), ctx);
    } catch (GeneralSecurityException | IOException e) {
      throw new XenApiException(XenApiError.SERVER_CERTIFICATE_INVALID);
    }
  }

  /** The certificate's first DNS name, else its common name: what clients check it against. */
  static String subjectName(X509Certificate c) {
    try {
      if (c.getSubjectAlternativeNames() != null) {
        for (List<?> n : c.getSubjectAlternativeNames()) {
          if (Integer.valueOf(2).equals(n.get(0))) {
            return String.valueOf(n.get(1));
          }
        }
      }
    } catch (java.security.cert.CertificateParsingException e) {
      LOG.debugf("unreadable subject alternative names: %s", e.getMessage());
    }
    String dn = c.getSubjectX500Principal().getName();
    for (String part : dn.split(",")) {
      if (part.startsWith("CN=")) {
        return part.substring(3);
      }
    }
    return dn;
  }

  /** Base64 of DER, for tests and logs. */
  static String base64(byte[] der) {
    return Base64.getEncoder().encodeToString(der);
  }
}
