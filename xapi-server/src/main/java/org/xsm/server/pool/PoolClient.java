package org.xsm.server.pool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.tls.Pem;

/**
 * XenAPI calls from one host of a pool to another, over JSON-RPC on HTTPS, trusting exactly the
 * other host's certificate (pinned: the certificate learnt when the host joined, as xapi's pool
 * certificate exchange gives each host the others'). The only unverified contact is the first one
 * of a join, which fetches the master's certificate before the user's password is sent (xapi's join
 * does the same: its first connection does not check the certificate, later ones do).
 */
final class PoolClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private final URI uri;
  private final HttpClient http;
  private long id;

  private PoolClient(URI uri, HttpClient http) {
    this.uri = uri;
    this.http = http;
  }

  /** A client of the host at {@code address} (host or host:port; the port defaults to ours). */
  static PoolClient to(String address, int defaultPort, String certificatePem) throws IOException {
    try {
      X509Certificate pinned = parse(certificatePem);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {new Pinned(pinned)}, null);
      HttpClient http =
          HttpClient.newBuilder()
              .sslContext(ctx)
              .connectTimeout(TIMEOUT)
              .version(HttpClient.Version.HTTP_1_1)
              .build();
      return new PoolClient(
          URI.create("https://" + withPort(address, defaultPort) + "/jsonrpc"), http);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot set up TLS to " + address + ": " + e.getMessage(), e);
    }
  }

  static String withPort(String address, int defaultPort) {
    boolean hasPort = address.lastIndexOf(':') > 0 && !address.endsWith("]");
    return hasPort ? address : address + ":" + defaultPort;
  }

  /**
   * The certificate a host presents, read without checking it: the first step of a join, after
   * which everything is checked against it.
   */
  static String fetchCertificate(String address, int defaultPort) throws IOException {
    String hp = withPort(address, defaultPort);
    int colon = hp.lastIndexOf(':');
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {new Pinned(null)}, null);
      try (Socket raw = new Socket()) {
        raw.connect(
            new java.net.InetSocketAddress(
                hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1))),
            (int) TIMEOUT.toMillis());
        try (SSLSocket s =
            (SSLSocket)
                ctx.getSocketFactory()
                    .createSocket(raw, hp.substring(0, colon), raw.getPort(), true)) {
          s.startHandshake();
          X509Certificate leaf = (X509Certificate) s.getSession().getPeerCertificates()[0];
          return Pem.encode("CERTIFICATE", leaf.getEncoded());
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read the certificate of " + hp + ": " + e.getMessage(), e);
    }
  }

  private static X509Certificate parse(String pem) throws CertificateException {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
  }

  /**
   * Calls {@code method} with {@code params} (the session first where the method takes one); its
   * result, or the XenAPI error the other host answered; a host that cannot be reached fails with
   * {@code CANNOT_CONTACT_HOST}.
   */
  JsonNode call(String method, Object... params) throws XenApiException {
    ObjectNode req = JSON.createObjectNode();
    req.put("jsonrpc", "2.0");
    req.put("method", method);
    ArrayNode p = req.putArray("params");
    for (Object o : params) {
      p.add(JSON.valueToTree(o));
    }
    synchronized (this) {
      req.put("id", ++id);
    }
    HttpResponse<byte[]> r;
    try {
      r =
          http.send(
              HttpRequest.newBuilder(uri)
                  .timeout(TIMEOUT)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(req)))
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new XenApiException(
          XenApiError.CANNOT_CONTACT_HOST, uri.getAuthority(), String.valueOf(e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new XenApiException(XenApiError.CANNOT_CONTACT_HOST, uri.getAuthority(), "interrupted");
    }
    JsonNode body;
    try {
      body = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new XenApiException(
          XenApiError.CANNOT_CONTACT_HOST,
          uri.getAuthority(),
          "answer is not JSON: HTTP " + r.statusCode());
    }
    JsonNode error = body.get("error");
    if (error != null && !error.isNull()) {
      List<String> desc = new ArrayList<>();
      desc.add(error.path("message").asText());
      error.path("data").forEach(d -> desc.add(d.asText()));
      throw XenApiException.withCode(
          desc.get(0), desc.subList(1, desc.size()).toArray(String[]::new));
    }
    return body.get("result");
  }

  /** Trusts exactly one certificate (or, with none, any: only to read a host's certificate). */
  private static final class Pinned extends X509ExtendedTrustManager {
    private final X509Certificate pinned;

    Pinned(X509Certificate pinned) {
      this.pinned = pinned;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (pinned == null) {
        return;
      }
      if (chain == null
          || chain.length == 0
          || !Arrays.equals(chain[0].getEncoded(), pinned.getEncoded())) {
        throw new CertificateException(
            "the host presents a certificate other than the pool's for it ("
                + (chain == null || chain.length == 0 ? "none" : chain[0].getSubjectX500Principal())
                + ")");
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket s)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine e)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket s)
        throws CertificateException {
      throw new CertificateException("not a server");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine e)
        throws CertificateException {
      throw new CertificateException("not a server");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("not a server");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
