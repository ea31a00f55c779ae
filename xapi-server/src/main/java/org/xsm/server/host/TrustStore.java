package org.xsm.server.host;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * The pool's trusted CA certificates and revocation lists ({@code pool.certificate_install}, {@code
 * crl_install}...), kept as PEM files under {@code <data>/trust/ca} and {@code <data>/trust/crl} as
 * xapi keeps them under {@code /etc/stunnel}. A file is written to a temporary name and renamed
 * into place, so a crash leaves the old set or the new one, never half a file.
 */
@ApplicationScoped
public class TrustStore {
  /** What xapi accepts as a certificate name: a plain file name. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,254}");

  /** The two kinds of entry, with xapi's error codes for each. */
  public enum Kind {
    CA(
        "ca",
        XenApiError.CERTIFICATE_NAME_INVALID,
        XenApiError.CERTIFICATE_ALREADY_EXISTS,
        XenApiError.CERTIFICATE_DOES_NOT_EXIST,
        XenApiError.CERTIFICATE_CORRUPT),
    CRL(
        "crl",
        XenApiError.CRL_NAME_INVALID,
        XenApiError.CRL_ALREADY_EXISTS,
        XenApiError.CRL_DOES_NOT_EXIST,
        XenApiError.CRL_CORRUPT);

    final String dir;
    final XenApiError nameInvalid;
    final XenApiError exists;
    final XenApiError missing;
    final XenApiError corrupt;

    Kind(
        String dir,
        XenApiError nameInvalid,
        XenApiError exists,
        XenApiError missing,
        XenApiError corrupt) {
      this.dir = dir;
      this.nameInvalid = nameInvalid;
      this.exists = exists;
      this.missing = missing;
      this.corrupt = corrupt;
    }
  }

  @ConfigProperty(name = "xsm.data-dir", defaultValue = "./xsm-data")
  String dataDir;

  private Path dir(Kind k) {
    return Path.of(dataDir, "trust", k.dir);
  }

  private Path file(Kind k, String name) throws XenApiException {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new XenApiException(k.nameInvalid, String.valueOf(name));
    }
    return dir(k).resolve(name);
  }

  /** Installs a PEM certificate or CRL under {@code name}, after checking that it parses. */
  public synchronized void install(Kind k, String name, String pem) throws XenApiException {
    Path f = file(k, name);
    if (Files.exists(f)) {
      throw new XenApiException(k.exists, name);
    }
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      var in = new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII));
      if (k == Kind.CA) {
        cf.generateCertificate(in);
      } else {
        cf.generateCRL(in);
      }
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new XenApiException(k.corrupt, name);
    }
    try {
      Files.createDirectories(f.getParent());
      Path tmp = f.resolveSibling("." + name + ".tmp");
      Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
      Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new XenApiException(
          XenApiError.INTERNAL_ERROR, "cannot store " + name + ": " + e.getMessage());
    }
  }

  public synchronized void uninstall(Kind k, String name) throws XenApiException {
    Path f = file(k, name);
    try {
      if (!Files.deleteIfExists(f)) {
        throw new XenApiException(k.missing, name);
      }
    } catch (IOException e) {
      throw new XenApiException(
          XenApiError.INTERNAL_ERROR, "cannot remove " + name + ": " + e.getMessage());
    }
  }

  /** The installed names, sorted. */
  public synchronized List<String> list(Kind k) throws XenApiException {
    List<String> out = new ArrayList<>();
    if (!Files.isDirectory(dir(k))) {
      return out;
    }
    try (Stream<Path> s = Files.list(dir(k))) {
      s.map(p -> p.getFileName().toString())
          .filter(n -> !n.startsWith("."))
          .sorted()
          .forEach(out::add);
    } catch (IOException e) {
      throw new XenApiException(
          XenApiError.INTERNAL_ERROR, "cannot list certificates: " + e.getMessage());
    }
    return out;
  }
}
