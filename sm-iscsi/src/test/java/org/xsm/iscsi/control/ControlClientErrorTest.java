package org.xsm.iscsi.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xsm.api.SmError;

/**
 * The control client's requests and its mapping of the array's errors to SM errors, against a small
 * fake HTTP server that answers what each test tells it (the real array is tested in the
 * conformance run).
 */
class ControlClientErrorTest {
  private static final String AUTH = "Basic YWRtaW46c2VjcmV0"; // admin:secret
  private static final String LUN_JSON =
      "{\"id\":\"l-1\",\"name\":\"disk\",\"lun\":3,\"sizeBytes\":4194304,\"readOnly\":true,"
          + "\"snapshotOf\":\"l-0\",\"cloneOf\":null,\"created\":\"2026-01-01T00:00:00Z\","
          + "\"allocatedBytes\":65536,\"metadata\":{\"xsm-sr\":\"s\"},\"futureField\":1}";

  private record Seen(String method, String path, String query, String auth, String body) {}

  private HttpServer server;
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private volatile int status;
  private volatile String answer;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  private void handle(HttpExchange x) throws IOException {
    String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String auth = x.getRequestHeaders().getFirst("Authorization");
    seen.add(
        new Seen(
            x.getRequestMethod(),
            x.getRequestURI().getPath(),
            x.getRequestURI().getRawQuery(),
            auth,
            body));
    int code = status;
    String text = answer;
    if (!AUTH.equals(auth)) {
      code = 401;
      text = "{\"error\":\"UNAUTHORIZED\",\"message\":\"credentials required\"}";
    }
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    x.sendResponseHeaders(code, code == 204 ? -1 : bytes.length);
    if (code != 204) {
      x.getResponseBody().write(bytes);
    }
    x.close();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private ControlClient client(String user, String password) {
    return new ControlClient(
        "http://127.0.0.1:" + server.getAddress().getPort(), user, password, Duration.ofSeconds(5));
  }

  private void answer(int code, String json) {
    status = code;
    answer = json;
  }

  @Test
  void parsesLunsAndSendsTheContractRequests() throws Exception {
    answer(201, LUN_JSON);
    Lun lun = client("admin", "secret").createLun("disk", 4194304, Map.of("k", "v"));
    assertThat(lun)
        .isEqualTo(
            new Lun(
                "l-1",
                "disk",
                3,
                4194304,
                true,
                "l-0",
                null,
                "2026-01-01T00:00:00Z",
                65536,
                Map.of("xsm-sr", "s"),
                false)); // an array that predates data destroy sends no dataDestroyed
    Seen s = seen.get(0);
    assertThat(s.method()).isEqualTo("POST");
    assertThat(s.path()).isEqualTo("/api/v1/luns");
    assertThat(s.auth()).isEqualTo(AUTH);
    assertThat(s.body())
        .isEqualTo("{\"name\":\"disk\",\"sizeBytes\":4194304,\"metadata\":{\"k\":\"v\"}}");
    answer(204, "");
    client("admin", "secret").deleteLun("l-1");
    assertThat(seen.get(1).method()).isEqualTo("DELETE");
    assertThat(seen.get(1).path()).isEqualTo("/api/v1/luns/l-1");
    answer(200, "{\"iqn\":\"iqn.x\",\"portal\":\"127.0.0.1:3260\",\"chap\":false}");
    assertThat(client("admin", "secret").target())
        .isEqualTo(new TargetInfo("iqn.x", "127.0.0.1:3260", false));
  }

  @Test
  void withoutCredentialsIsUnauthorizedAndUnavailable() {
    answer(200, "[]");
    assertThatThrownBy(() -> client(null, null).listLuns())
        .isInstanceOfSatisfying(
            ControlApiException.class,
            e -> {
              assertThat(e.error()).isEqualTo(SmError.SR_UNAVAILABLE);
              assertThat(e.apiError()).isEqualTo("UNAUTHORIZED");
              assertThat(e.httpStatus()).isEqualTo(401);
            })
        .hasMessageContaining("controlUser");
    assertThatThrownBy(() -> client("admin", "wrong").listLuns())
        .hasMessageContaining("401 UNAUTHORIZED");
  }

  @Test
  void arrayErrorsMapToSmErrors() {
    Object[][] cases = {
      {404, "NOT_FOUND", SmError.VDI_MISSING},
      {400, "BAD_REQUEST", SmError.BAD_REQUEST},
      {507, "NO_SPACE", SmError.SR_NO_SPACE},
      {409, "CONFLICT", SmError.VDI_IN_USE},
    };
    for (Object[] c : cases) {
      answer((int) c[0], "{\"error\":\"" + c[1] + "\",\"message\":\"why " + c[1] + "\"}");
      assertThatThrownBy(() -> client("admin", "secret").resize("l-1", 1))
          .as("answer %s", c[1])
          .isInstanceOfSatisfying(
              ControlApiException.class, e -> assertThat(e.error()).isEqualTo(c[2]))
          .hasMessageContaining("why " + c[1])
          .hasMessageContaining("POST http://");
    }
  }

  @Test
  void unreadableAnswersAndServerErrorsAreGeneral() {
    answer(500, "<html>proxy error</html>");
    assertThatThrownBy(() -> client("admin", "secret").pool())
        .isInstanceOfSatisfying(
            ControlApiException.class, e -> assertThat(e.error()).isEqualTo(SmError.GENERAL))
        .hasMessageContaining("proxy error");
    answer(200, "{not json");
    assertThatThrownBy(() -> client("admin", "secret").pool())
        .isInstanceOfSatisfying(
            ControlApiException.class, e -> assertThat(e.error()).isEqualTo(SmError.GENERAL))
        .hasMessageContaining("unreadable answer");
  }

  @Test
  void unreachableArrayIsUnavailable() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ControlClient c =
        new ControlClient("http://127.0.0.1:" + port, "admin", "secret", Duration.ofSeconds(2));
    assertThatThrownBy(c::listLuns)
        .isInstanceOfSatisfying(
            ControlApiException.class, e -> assertThat(e.error()).isEqualTo(SmError.SR_UNAVAILABLE))
        .hasMessageContaining("unreachable");
    assertThatThrownBy(() -> new ControlClient("ftp://x", "a", "b", Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sendsTheChangedBlocksAndDataDestroyRequests() throws Exception {
    answer(
        200,
        "{\"blockSizeBytes\":65536,\"sizeBytes\":1311232,\"changedBlocks\":2,"
            + "\"bitmap\":\"gAA=\",\"later\":true}");
    ChangedBlocksAnswer a = client("admin", "secret").changedBlocks("l-1", "l 0");
    assertThat(a.blockSizeBytes()).isEqualTo(65536);
    assertThat(a.sizeBytes()).isEqualTo(1311232);
    assertThat(a.changed()).isEqualTo(java.util.BitSet.valueOf(new long[] {1}));
    assertThat(seen.get(0).method()).isEqualTo("GET");
    assertThat(seen.get(0).path()).isEqualTo("/api/v1/luns/l-1/changed-blocks");
    assertThat(seen.get(0).query()).isEqualTo("from=l+0");

    answer(200, LUN_JSON.replace("\"futureField\":1", "\"dataDestroyed\":true"));
    Lun l = client("admin", "secret").dataDestroy("l-1", Map.of("xsm-type", "cbt_metadata"));
    assertThat(l.dataDestroyed()).isTrue();
    assertThat(seen.get(1).method()).isEqualTo("POST");
    assertThat(seen.get(1).path()).isEqualTo("/api/v1/luns/l-1/data-destroy");
    assertThat(seen.get(1).body()).isEqualTo("{\"metadata\":{\"xsm-type\":\"cbt_metadata\"}}");
    client("admin", "secret").dataDestroy("l-1", null);
    assertThat(seen.get(2).body()).isEqualTo("{}");
  }
}
