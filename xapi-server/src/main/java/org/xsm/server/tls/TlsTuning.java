package org.xsm.server.tls;

import io.netty.handler.ssl.SslHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.impl.ConnectionBase;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.jboss.logging.Logger;

/**
 * HTTPS throughput for the disk transfers (exports send 1 MiB writes):
 *
 * <ul>
 *   <li>Each connection's {@link SslHandler} encrypts up to 1 MiB per pass ({@code
 *       setWrapDataSize}) instead of one 16 KiB record at a time: the records go into one output
 *       buffer, so an export allocates (and the socket write copies) one buffer per megabyte, not
 *       64. With the default, a JFR profile showed two thirds of the event loop in Netty's pooled
 *       allocation under {@code SslHandler.wrap}, and raw exports ran at 0.01-0.2x plain HTTP.
 *   <li>The JDK's own cipher suites, AES-128-GCM first (TLS 1.3 and 1.2), which the server's order
 *       makes the choice of any client offering it: fewer AES rounds than AES-256, the JDK's
 *       default first. No suite is removed, so every client that connected before still does.
 * </ul>
 */
public final class TlsTuning {
  private static final Logger LOG = Logger.getLogger(TlsTuning.class);
  static final int WRAP_BYTES = 1024 * 1024;

  private TlsTuning() {}

  /** The JDK's default suites with the AES-128-GCM ones first. */
  static List<String> cipherOrder() throws NoSuchAlgorithmException {
    return aes128First(SSLContext.getDefault().getDefaultSSLParameters().getCipherSuites());
  }

  /** The suites with the AES-128-GCM ones first, the order otherwise kept, none removed. */
  public static List<String> aes128First(String[] suites) {
    List<String> first = new ArrayList<>();
    List<String> rest = new ArrayList<>();
    for (String s : suites) {
      (s.contains("AES_128_GCM") ? first : rest).add(s);
    }
    first.addAll(rest);
    return first;
  }

  /** An engine's parameters with {@link #aes128First} and the server's order in force (NBD). */
  public static SSLParameters preferAes128(SSLParameters p) {
    p.setCipherSuites(aes128First(p.getCipherSuites()).toArray(new String[0]));
    p.setUseCipherSuitesOrder(true);
    return p;
  }

  static void apply(HttpServerOptions o) {
    try {
      cipherOrder().forEach(o::addEnabledCipherSuite);
    } catch (NoSuchAlgorithmException e) {
      LOG.warnf(e, "HTTPS keeps the default cipher order");
    }
  }

  /** For {@code HttpServer.connectionHandler}: a larger encryption pass on each new connection. */
  static void onConnection(HttpConnection c) {
    if (c instanceof ConnectionBase b) {
      SslHandler h = b.channelHandlerContext().pipeline().get(SslHandler.class);
      if (h != null) {
        h.setWrapDataSize(WRAP_BYTES);
      }
    }
  }
}
