package org.xsm.iscsi.array.control;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.xsm.iscsi.array.ArrayException;
import org.xsm.iscsi.array.ArrayException.Kind;
import org.xsm.iscsi.array.pool.BlockDiff;
import org.xsm.iscsi.array.pool.BlockPool;
import org.xsm.iscsi.array.pool.LunInfo;
import org.xsm.iscsi.array.pool.LunOperations;
import org.xsm.iscsi.array.pool.PoolStats;
import org.xsm.iscsi.array.target.TargetConfig;

/**
 * The array's control interface: HTTP/JSON under {@code /api/v1}, HTTP Basic authentication. The
 * contract (paths, bodies, error form) is in docs/iscsi-array.md; it only ever grows. Every
 * mutating call is durable when it returns (see {@link LunOperations}).
 */
public final class ControlServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ControlServer.class.getName());
  private static final String PREFIX = "/api/v1/";

  private final HttpServer http;
  private final BlockPool pool;
  private final TargetConfig target;
  private final int targetPort;
  private final byte[] expectedAuth;

  private ControlServer(
      HttpServer http,
      BlockPool pool,
      TargetConfig target,
      int targetPort,
      String user,
      String password) {
    this.http = http;
    this.pool = pool;
    this.target = target;
    this.targetPort = targetPort;
    this.expectedAuth =
        ("Basic "
                + Base64.getEncoder()
                    .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)))
            .getBytes(StandardCharsets.UTF_8);
  }

  /** Binds {@code address} and starts serving. */
  public static ControlServer start(
      InetSocketAddress address,
      BlockPool pool,
      TargetConfig target,
      int targetPort,
      String user,
      String password)
      throws IOException {
    HttpServer http = HttpServer.create(address, 64);
    ControlServer c = new ControlServer(http, pool, target, targetPort, user, password);
    http.createContext("/", c::handle);
    http.setExecutor(
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "array-control");
              t.setDaemon(true);
              return t;
            }));
    http.start();
    return c;
  }

  public int port() {
    return http.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      try {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null
            || !MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8), expectedAuth)) {
          ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"xsm-array\"");
          throw new ArrayException(Kind.UNAUTHORIZED, "HTTP Basic credentials missing or wrong");
        }
        route(ex);
      } catch (ArrayException e) {
        error(ex, e.kind().httpStatus(), e.kind().name(), e.getMessage());
      } catch (IllegalArgumentException e) {
        error(ex, 400, Kind.BAD_REQUEST.name(), e.getMessage());
      } catch (UncheckedIOException | IOException e) {
        LOG.log(Level.SEVERE, "control request " + ex.getRequestURI() + " failed", e);
        error(ex, 500, "INTERNAL", String.valueOf(e.getMessage()));
      }
    }
  }

  private void route(HttpExchange ex) throws IOException {
    String method = ex.getRequestMethod();
    String path = ex.getRequestURI().getPath();
    if (!path.startsWith(PREFIX)) {
      throw new ArrayException(Kind.NOT_FOUND, "no resource " + path);
    }
    String[] parts = path.substring(PREFIX.length()).split("/");
    LunOperations luns = pool.luns();
    switch (parts[0]) {
      case "pool" -> {
        only(method, "GET", parts.length == 1);
        send(ex, 200, poolJson(pool.stats()));
      }
      case "target" -> {
        only(method, "GET", parts.length == 1);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("iqn", target.iqn());
        m.put("portal", target.host() + ":" + targetPort);
        m.put("chap", target.chap());
        send(ex, 200, m);
      }
      case "luns" -> {
        if (parts.length == 1) {
          if (method.equals("GET")) {
            List<Object> all = new ArrayList<>();
            for (LunInfo l : luns.list()) {
              all.add(lunJson(l));
            }
            send(ex, 200, all);
          } else {
            only(method, "POST", true);
            Map<String, Object> body = body(ex);
            send(
                ex,
                201,
                lunJson(
                    luns.create(
                        text(body, "name"), size(body), metadata(body.get("metadata"), true))));
          }
        } else if (parts.length == 2) {
          String id = parts[1];
          if (method.equals("DELETE")) {
            luns.delete(id);
            send(ex, 204, null);
          } else {
            only(method, "GET", true);
            send(ex, 200, lunJson(luns.info(id)));
          }
        } else if (parts.length == 3) {
          lunAction(ex, method, parts[1], parts[2], luns);
        } else {
          throw new ArrayException(Kind.NOT_FOUND, "no resource " + path);
        }
      }
      default -> throw new ArrayException(Kind.NOT_FOUND, "no resource " + path);
    }
  }

  private void lunAction(
      HttpExchange ex, String method, String id, String action, LunOperations luns)
      throws IOException {
    switch (action) {
      case "resize" -> {
        only(method, "POST", true);
        send(ex, 200, lunJson(luns.resize(id, size(body(ex)))));
      }
      case "snapshot", "clone" -> {
        only(method, "POST", true);
        Map<String, Object> body = body(ex);
        String name = text(body, "name");
        Map<String, String> meta = metadata(body.get("metadata"), true);
        LunInfo l =
            action.equals("snapshot") ? luns.snapshot(id, name, meta) : luns.clone(id, name, meta);
        send(ex, 201, lunJson(l));
      }
      case "metadata" -> {
        only(method, "PUT", true);
        send(ex, 200, lunJson(luns.setMetadata(id, metadata(body(ex), false))));
      }
      case "data-destroy" -> {
        only(method, "POST", true);
        Map<String, Object> body = optionalBody(ex);
        Object meta = body.get("metadata");
        send(ex, 200, lunJson(luns.dataDestroy(id, meta == null ? null : metadata(meta, false))));
      }
      case "changed-blocks" -> {
        only(method, "GET", true);
        String from = query(ex, "from");
        if (from == null || from.isEmpty()) {
          throw new IllegalArgumentException(
              "changed-blocks needs the earlier LUN: ?from=<LUN id>");
        }
        send(ex, 200, diffJson(luns.changedBlocks(id, from)));
      }
      default -> throw new ArrayException(Kind.NOT_FOUND, "no LUN action " + action);
    }
  }

  private static void only(String method, String allowed, boolean pathOk) {
    if (!pathOk) {
      throw new ArrayException(Kind.NOT_FOUND, "no such resource");
    }
    if (!method.equals(allowed)) {
      throw new ArrayException(
          Kind.BAD_REQUEST, "method " + method + " not allowed here; use " + allowed);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> body(HttpExchange ex) throws IOException {
    String text = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Object v = Json.parse(text);
    if (!(v instanceof Map)) {
      throw new IllegalArgumentException("the request body must be a JSON object");
    }
    return (Map<String, Object>) v;
  }

  /** The request body, or an empty object if there is none. */
  private static Map<String, Object> optionalBody(HttpExchange ex) throws IOException {
    String text = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    if (text.isBlank()) {
      return Map.of();
    }
    Object v = Json.parse(text);
    if (!(v instanceof Map)) {
      throw new IllegalArgumentException("the request body must be a JSON object");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) v;
    return m;
  }

  /** The value of query parameter {@code name}, or null. */
  private static String query(HttpExchange ex, String name) {
    String raw = ex.getRequestURI().getRawQuery();
    if (raw == null) {
      return null;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      if (URLDecoder.decode(k, StandardCharsets.UTF_8).equals(name)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static String text(Map<String, Object> body, String key) {
    Object v = body.get(key);
    if (!(v instanceof String s)) {
      throw new IllegalArgumentException("\"" + key + "\" must be a string");
    }
    return s;
  }

  private static long size(Map<String, Object> body) {
    Object v = body.get("sizeBytes");
    if (!(v instanceof Long l)) {
      throw new IllegalArgumentException("\"sizeBytes\" must be an integer");
    }
    return l;
  }

  private static Map<String, String> metadata(Object v, boolean optional) {
    if (v == null && optional) {
      return Map.of();
    }
    if (!(v instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException("metadata must be a JSON object of strings");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (!(e.getValue() instanceof String s)) {
        throw new IllegalArgumentException(
            "metadata value of \"" + e.getKey() + "\" must be a string");
      }
      out.put((String) e.getKey(), s);
    }
    return out;
  }

  /** The LUN JSON of the contract. */
  static Map<String, Object> lunJson(LunInfo l) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", l.id());
    m.put("name", l.name());
    m.put("lun", l.lun());
    m.put("sizeBytes", l.sizeBytes());
    m.put("readOnly", l.readOnly());
    m.put("snapshotOf", l.snapshotOf());
    m.put("cloneOf", l.cloneOf());
    m.put("created", l.created().toString());
    m.put("allocatedBytes", l.allocatedBytes());
    m.put("metadata", new java.util.TreeMap<>(l.metadata()));
    m.put("dataDestroyed", l.dataDestroyed());
    return m;
  }

  /**
   * The changed-blocks JSON: the bitmap is base64, bit {@code i} is granule {@code i}, most
   * significant bit of each byte first (XenAPI's encoding), {@code ceil(granules / 8)} bytes.
   */
  static Map<String, Object> diffJson(BlockDiff d) {
    byte[] bits = new byte[(d.granules() + 7) / 8];
    java.util.BitSet changed = d.changed();
    for (int i = changed.nextSetBit(0); i >= 0; i = changed.nextSetBit(i + 1)) {
      bits[i >>> 3] |= (byte) (0x80 >>> (i & 7));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("blockSizeBytes", d.granuleBytes());
    m.put("sizeBytes", d.sizeBytes());
    m.put("changedBlocks", changed.cardinality());
    m.put("bitmap", Base64.getEncoder().encodeToString(bits));
    return m;
  }

  static Map<String, Object> poolJson(PoolStats s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("blockSizeBytes", s.blockSizeBytes());
    m.put("capacityBytes", s.capacityBytes());
    m.put("physicalUsedBytes", s.physicalUsedBytes());
    m.put("freeBytes", s.freeBytes());
    m.put("logicalBytes", s.logicalBytes());
    m.put("dedupRatio", s.dedupRatio());
    m.put("lunCount", s.lunCount());
    return m;
  }

  private static void send(HttpExchange ex, int status, Object body) throws IOException {
    if (body == null) {
      ex.sendResponseHeaders(status, -1);
      return;
    }
    byte[] b = Json.write(body).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
  }

  private static void error(HttpExchange ex, int status, String kind, String message)
      throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("error", kind);
    m.put("message", message);
    send(ex, status, m);
  }

  @Override
  public void close() {
    http.stop(0);
  }
}
