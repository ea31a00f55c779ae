package org.xsm.iscsi.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xsm.api.SmError;

/**
 * Client of the array's control API ({@code /api/v1}, HTTP Basic, JSON), with {@link HttpClient}.
 *
 * <p>Errors map to SM errors: {@code NOT_FOUND} to {@link SmError#VDI_MISSING}, {@code NO_SPACE} to
 * {@link SmError#SR_NO_SPACE}, {@code BAD_REQUEST} to {@link SmError#BAD_REQUEST}, {@code CONFLICT}
 * to {@link SmError#VDI_IN_USE}, {@code UNAUTHORIZED} (wrong control credentials) and an
 * unreachable array to {@link SmError#SR_UNAVAILABLE}, anything else to {@link SmError#GENERAL}.
 * Callers refine the mapping where the operation says more (e.g. a refused shrink is {@link
 * SmError#VDI_SIZE}).
 *
 * <p>Thread-safe. Each call is one HTTP request, which the array applies atomically.
 */
public final class ControlClient {
  /**
   * Answer time allowed for calls whose work grows with the LUN: a changed-blocks query or the
   * digests of a data destroy of a fully written LUN of the largest size (8 TiB) take minutes.
   */
  static final Duration LONG_CALL = Duration.ofMinutes(15);

  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final URI base;
  private final String authorization;
  private final HttpClient http;
  private final Duration timeout;

  /**
   * @param controlUrl the API root, e.g. {@code http://array:8080} (with or without {@code
   *     /api/v1})
   */
  public ControlClient(String controlUrl, String user, String password, Duration timeout) {
    String url =
        controlUrl.endsWith("/") ? controlUrl.substring(0, controlUrl.length() - 1) : controlUrl;
    if (!url.endsWith("/api/v1")) {
      url = url + "/api/v1";
    }
    this.base = URI.create(url + "/");
    if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme())) {
      throw new IllegalArgumentException("control URL " + controlUrl + " is not http(s)");
    }
    this.authorization =
        user == null
            ? null
            : "Basic "
                + Base64.getEncoder()
                    .encodeToString(
                        (user + ":" + (password == null ? "" : password))
                            .getBytes(StandardCharsets.UTF_8));
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  public List<Lun> listLuns() throws ControlApiException {
    return call("GET", "luns", null, new TypeReference<List<Lun>>() {});
  }

  public Lun getLun(String id) throws ControlApiException {
    return call("GET", "luns/" + path(id), null, new TypeReference<Lun>() {});
  }

  public Lun createLun(String name, long sizeBytes, Map<String, String> metadata)
      throws ControlApiException {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("name", name);
    body.put("sizeBytes", sizeBytes);
    body.put("metadata", metadata);
    return call("POST", "luns", body, new TypeReference<Lun>() {});
  }

  public void deleteLun(String id) throws ControlApiException {
    call("DELETE", "luns/" + path(id), null, null);
  }

  public Lun resize(String id, long sizeBytes) throws ControlApiException {
    return call(
        "POST",
        "luns/" + path(id) + "/resize",
        Map.of("sizeBytes", sizeBytes),
        new TypeReference<Lun>() {});
  }

  /** A read-only, point-in-time copy of the LUN ({@code snapshotOf} = id). */
  public Lun snapshot(String id, String name, Map<String, String> metadata)
      throws ControlApiException {
    return copy(id, "snapshot", name, metadata);
  }

  /** A writable, independent copy of the LUN ({@code cloneOf} = id). */
  public Lun cloneLun(String id, String name, Map<String, String> metadata)
      throws ControlApiException {
    return copy(id, "clone", name, metadata);
  }

  private Lun copy(String id, String action, String name, Map<String, String> metadata)
      throws ControlApiException {
    return call(
        "POST",
        "luns/" + path(id) + "/" + action,
        Map.of("name", name, "metadata", metadata),
        new TypeReference<Lun>() {});
  }

  /** Replaces the LUN's metadata map. */
  public Lun putMetadata(String id, Map<String, String> metadata) throws ControlApiException {
    return call("PUT", "luns/" + path(id) + "/metadata", metadata, new TypeReference<Lun>() {});
  }

  /**
   * Destroys the data of a snapshot LUN, keeping what changed-block queries need; {@code metadata}
   * (if not null) replaces the LUN's metadata in the same call.
   */
  public Lun dataDestroy(String id, Map<String, String> metadata) throws ControlApiException {
    Map<String, Object> body = new LinkedHashMap<>();
    if (metadata != null) {
      body.put("metadata", metadata);
    }
    return call(
        "POST", "luns/" + path(id) + "/data-destroy", body, new TypeReference<Lun>() {}, longer());
  }

  /** The blocks whose content differs from LUN {@code fromId} to LUN {@code id}. */
  public ChangedBlocksAnswer changedBlocks(String id, String fromId) throws ControlApiException {
    return call(
        "GET",
        "luns/" + path(id) + "/changed-blocks?from=" + path(fromId),
        null,
        new TypeReference<ChangedBlocksAnswer>() {},
        longer());
  }

  public PoolStats pool() throws ControlApiException {
    return call("GET", "pool", null, new TypeReference<PoolStats>() {});
  }

  public TargetInfo target() throws ControlApiException {
    return call("GET", "target", null, new TypeReference<TargetInfo>() {});
  }

  private static String path(String id) {
    return URLEncoder.encode(id, StandardCharsets.UTF_8);
  }

  private Duration longer() {
    return timeout.compareTo(LONG_CALL) > 0 ? timeout : LONG_CALL;
  }

  private <T> T call(String method, String path, Object body, TypeReference<T> type)
      throws ControlApiException {
    return call(method, path, body, type, timeout);
  }

  private <T> T call(
      String method, String path, Object body, TypeReference<T> type, Duration answerTimeout)
      throws ControlApiException {
    URI uri = base.resolve(path);
    String what = method + " " + uri;
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(answerTimeout);
    request.header("Accept", "application/json");
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    try {
      if (body != null) {
        request.header("Content-Type", "application/json");
        request.method(
            method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
      } else {
        request.method(method, HttpRequest.BodyPublishers.noBody());
      }
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode a request body", e);
    }
    HttpResponse<byte[]> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new ControlApiException(
          SmError.SR_UNAVAILABLE, null, 0, what + ": array control API unreachable: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ControlApiException(SmError.SR_UNAVAILABLE, null, 0, what + ": interrupted", e);
    }
    int status = response.statusCode();
    if (status / 100 != 2) {
      throw error(what, status, response.body());
    }
    if (type == null) {
      return null;
    }
    try {
      return JSON.readValue(response.body(), type);
    } catch (IOException e) {
      throw new ControlApiException(
          SmError.GENERAL, null, status, what + ": unreadable answer from the array: " + e, e);
    }
  }

  private static ControlApiException error(String what, int status, byte[] body) {
    String code = null;
    String message = new String(body, StandardCharsets.UTF_8);
    try {
      JsonNode node = JSON.readTree(body);
      if (node != null && node.hasNonNull("error")) {
        code = node.get("error").asText();
        message = node.path("message").asText("");
      }
    } catch (IOException e) {
      // Not JSON (a proxy's page, say): the raw body is the message.
      message = message + " (" + e.getClass().getSimpleName() + ")";
    }
    if (code == null) {
      code =
          switch (status) {
            case 400 -> "BAD_REQUEST";
            case 401 -> "UNAUTHORIZED";
            case 404 -> "NOT_FOUND";
            case 409 -> "CONFLICT";
            case 507 -> "NO_SPACE";
            default -> null;
          };
    }
    SmError error =
        code == null
            ? SmError.GENERAL
            : switch (code) {
              case "NOT_FOUND" -> SmError.VDI_MISSING;
              case "NO_SPACE" -> SmError.SR_NO_SPACE;
              case "BAD_REQUEST" -> SmError.BAD_REQUEST;
              case "CONFLICT" -> SmError.VDI_IN_USE;
              case "UNAUTHORIZED" -> SmError.SR_UNAVAILABLE;
              default -> SmError.GENERAL;
            };
    String text =
        what + ": array answered " + status + (code != null ? " " + code : "") + ": " + message;
    if ("UNAUTHORIZED".equals(code)) {
      text += " (check device_config:controlUser and controlPassword)";
    }
    return new ControlApiException(error, code, status, text, null);
  }
}
