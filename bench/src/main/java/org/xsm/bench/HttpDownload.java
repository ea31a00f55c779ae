package org.xsm.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.CRC32C;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One HTTP/1.1 GET on its own socket, plain or TLS, read in 1 MiB pieces with a CRC32C of the body
 * on the fly and its last 512 bytes kept (a VHD footer): as little client work as a download can
 * do, so the figure is the server's. Only bodies with a Content-Length are accepted (exports carry
 * one).
 */
final class HttpDownload {
  /** What came: body bytes, seconds from connect to the last byte, CRC32C, the last 512 bytes. */
  record Result(long bytes, double seconds, long crc, byte[] tail) {
    double mbPerSecond() {
      return bytes / seconds / 1e6;
    }
  }

  private HttpDownload() {}

  /**
   * GETs {@code pathAndQuery} from 127.0.0.1:{@code port}; with {@code tls} non-null, over TLS
   * checking the certificate against {@code subject}; with {@code copy} non-null, the body is also
   * written there.
   */
  static Result get(int port, String pathAndQuery, SSLContext tls, String subject, Path copy)
      throws IOException {
    long t0 = System.nanoTime();
    Socket plain = new Socket();
    plain.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    Socket s = plain;
    if (tls != null) {
      SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(plain, subject, port, true);
      SSLParameters p = ssl.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      ssl.setSSLParameters(p);
      ssl.startHandshake();
      s = ssl;
    }
    try (Socket closing = s) {
      OutputStream out = s.getOutputStream();
      out.write(
          ("GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = new BufferedInputStream(s.getInputStream(), 1 << 16);
      String head = head(in);
      if (!head.startsWith("HTTP/1.1 200")) {
        throw new IOException("GET " + pathAndQuery + ": " + head.lines().findFirst().orElse(""));
      }
      long length = -1;
      for (String line : head.split("\r\n")) {
        String l = line.toLowerCase(Locale.ROOT);
        if (l.startsWith("content-length:")) {
          length = Long.parseLong(l.substring(15).trim());
        }
      }
      if (length < 0) {
        throw new IOException("GET " + pathAndQuery + ": no Content-Length in\n" + head);
      }
      CRC32C crc = new CRC32C();
      byte[] buf = new byte[1 << 20];
      byte[] tail = new byte[512];
      long got = 0;
      OutputStream file =
          copy == null ? OutputStream.nullOutputStream() : Files.newOutputStream(copy);
      try (file) {
        while (got < length) {
          int n = in.read(buf, 0, (int) Math.min(buf.length, length - got));
          if (n < 0) {
            throw new IOException(
                "GET " + pathAndQuery + ": body ended at " + got + " of " + length);
          }
          crc.update(buf, 0, n);
          file.write(buf, 0, n);
          if (n >= 512) {
            System.arraycopy(buf, n - 512, tail, 0, 512);
          } else {
            System.arraycopy(tail, n, tail, 0, 512 - n);
            System.arraycopy(buf, 0, tail, 512 - n, n);
          }
          got += n;
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      return new Result(got, seconds, crc.getValue(), Arrays.copyOf(tail, 512));
    }
  }

  private static String head(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int state = 0;
    while (state < 4) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("the connection ended in the response head");
      }
      b.write(c);
      state =
          (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3))
              ? state + 1
              : (c == '\r' ? 1 : 0);
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }
}
