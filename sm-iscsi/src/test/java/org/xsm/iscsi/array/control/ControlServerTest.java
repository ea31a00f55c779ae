package org.xsm.iscsi.array.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.iscsi.array.pool.BlockPool;
import org.xsm.iscsi.array.target.TargetConfig;

/** The control API contract, over real HTTP against a real pool. */
class ControlServerTest {
  @TempDir Path dir;
  private BlockPool pool;
  private ControlServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws IOException {
    pool = BlockPool.open(dir, 1L << 30);
    TargetConfig cfg = new TargetConfig(TargetConfig.DEFAULT_IQN, "127.0.0.1", 0, null, null);
    server =
        ControlServer.start(
            new InetSocketAddress("127.0.0.1", 0), pool, cfg, 3260, "admin", "s3cret");
  }

  @AfterEach
  void stop() throws IOException {
    server.close();
    pool.close();
  }

  private record Reply(int status, Object body) {}

  private Reply call(String method, String path, String body, String password) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json");
    if (password != null) {
      String cred =
          Base64.getEncoder()
              .encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8));
      b.header("Authorization", "Basic " + cred);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 204) {
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    }
    return new Reply(r.statusCode(), r.body().isEmpty() ? null : Json.parse(r.body()));
  }

  private Reply call(String method, String path, String body) throws Exception {
    return call(method, path, body, "s3cret");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> obj(Reply r) {
    return (Map<String, Object>) r.body();
  }

  @Test
  void refusesMissingOrWrongCredentials() throws Exception {
    for (String pw : new String[] {null, "wrong"}) {
      Reply r = call("GET", "/api/v1/luns", null, pw);
      assertThat(r.status()).isEqualTo(401);
      assertThat(obj(r)).containsEntry("error", "UNAUTHORIZED");
    }
  }

  @Test
  void lunLifecycle() throws Exception {
    Reply created =
        call(
            "POST",
            "/api/v1/luns",
            "{\"name\":\"disk\",\"sizeBytes\":1048576,\"metadata\":{\"vdi\":\"u1\"}}");
    assertThat(created.status()).isEqualTo(201);
    Map<String, Object> lun = obj(created);
    String id = (String) lun.get("id");
    assertThat(lun)
        .containsEntry("name", "disk")
        .containsEntry("lun", 0L)
        .containsEntry("sizeBytes", 1048576L)
        .containsEntry("readOnly", false)
        .containsEntry("snapshotOf", null)
        .containsEntry("cloneOf", null)
        .containsEntry("allocatedBytes", 0L)
        .containsEntry("metadata", Map.of("vdi", "u1"))
        .containsKey("created");

    Map<String, Object> snap =
        obj(call("POST", "/api/v1/luns/" + id + "/snapshot", "{\"name\":\"s\"}"));
    assertThat(snap)
        .containsEntry("readOnly", true)
        .containsEntry("snapshotOf", id)
        .containsEntry("lun", 1L);
    Reply clone =
        call(
            "POST", "/api/v1/luns/" + id + "/clone", "{\"name\":\"c\",\"metadata\":{\"a\":\"b\"}}");
    assertThat(clone.status()).isEqualTo(201);
    assertThat(obj(clone)).containsEntry("readOnly", false).containsEntry("cloneOf", id);

    assertThat(obj(call("POST", "/api/v1/luns/" + id + "/resize", "{\"sizeBytes\":2097152}")))
        .containsEntry("sizeBytes", 2097152L);
    Reply shrink = call("POST", "/api/v1/luns/" + id + "/resize", "{\"sizeBytes\":4096}");
    assertThat(shrink.status()).isEqualTo(400);
    assertThat(obj(shrink)).containsEntry("error", "BAD_REQUEST");

    assertThat(obj(call("PUT", "/api/v1/luns/" + id + "/metadata", "{\"x\":\"1\"}")))
        .containsEntry("metadata", Map.of("x", "1"));
    assertThat((List<?>) call("GET", "/api/v1/luns", null).body()).hasSize(3);

    assertThat(call("DELETE", "/api/v1/luns/" + id, null).status()).isEqualTo(204);
    Reply gone = call("GET", "/api/v1/luns/" + id, null);
    assertThat(gone.status()).isEqualTo(404);
    assertThat(obj(gone)).containsEntry("error", "NOT_FOUND");
    assertThat(call("GET", "/api/v1/luns/" + snap.get("id"), null).status()).isEqualTo(200);
  }

  @Test
  void badBodiesAreBadRequests() throws Exception {
    for (String body :
        new String[] {
          "{",
          "[]",
          "{\"name\":\"x\"}",
          "{\"name\":\"x\",\"sizeBytes\":\"1\"}",
          "{\"name\":\"x\",\"sizeBytes\":0}",
          "{\"name\":\"x\",\"sizeBytes\":1,\"metadata\":{\"a\":1}}"
        }) {
      Reply r = call("POST", "/api/v1/luns", body);
      assertThat(r.status()).as(body).isEqualTo(400);
      assertThat(obj(r)).containsEntry("error", "BAD_REQUEST");
    }
    assertThat(call("GET", "/api/v1/nothing", null).status()).isEqualTo(404);
    assertThat(call("POST", "/api/v1/luns/none/clone", "{\"name\":\"c\"}").status()).isEqualTo(404);
  }

  @Test
  void poolAndTarget() throws Exception {
    Map<String, Object> lun =
        obj(call("POST", "/api/v1/luns", "{\"name\":\"d\",\"sizeBytes\":65536}"));
    byte[] block = new byte[BlockPool.BLOCK_SIZE];
    block[0] = 1;
    pool.write(((Long) lun.get("lun")).intValue(), 0, block, 0, block.length);
    pool.write(((Long) lun.get("lun")).intValue(), BlockPool.BLOCK_SIZE, block, 0, block.length);
    assertThat(obj(call("GET", "/api/v1/pool", null)))
        .containsEntry("blockSizeBytes", 4096L)
        .containsEntry("capacityBytes", 1L << 30)
        .containsEntry("physicalUsedBytes", 4096L)
        .containsEntry("freeBytes", (1L << 30) - 4096)
        .containsEntry("logicalBytes", 8192L)
        .containsEntry("dedupRatio", 2.0)
        .containsEntry("lunCount", 1L);
    assertThat(obj(call("GET", "/api/v1/target", null)))
        .isEqualTo(
            Map.of("iqn", TargetConfig.DEFAULT_IQN, "portal", "127.0.0.1:3260", "chap", false));
  }

  @Test
  void changedBlocksAndDataDestroy() throws Exception {
    // 20 granules of 64 KiB plus 512 bytes: 21 bits, 3 bytes of bitmap.
    Map<String, Object> lun =
        obj(call("POST", "/api/v1/luns", "{\"name\":\"d\",\"sizeBytes\":1311232}"));
    String id = (String) lun.get("id");
    int number = ((Long) lun.get("lun")).intValue();
    assertThat(lun).containsEntry("dataDestroyed", false);
    String snap =
        (String)
            obj(call("POST", "/api/v1/luns/" + id + "/snapshot", "{\"name\":\"s\"}")).get("id");
    byte[] data = new byte[100];
    java.util.Arrays.fill(data, (byte) 7);
    pool.write(number, 0, data, 0, data.length); // granule 0
    pool.write(number, 9L * 65536 + 65535, data, 0, 2); // granules 9 and 10
    pool.write(number, 20L * 65536, data, 0, 1); // granule 20, the partial last one
    Map<String, Object> diff =
        obj(call("GET", "/api/v1/luns/" + id + "/changed-blocks?from=" + snap, null));
    assertThat(diff)
        .containsEntry("blockSizeBytes", 65536L)
        .containsEntry("sizeBytes", 1311232L)
        .containsEntry("changedBlocks", 4L);
    // MSB first: granules 0 | 9, 10 | 20 -> 0x80 0x60 0x08
    assertThat(Base64.getDecoder().decode((String) diff.get("bitmap")))
        .containsExactly(0x80, 0x60, 0x08);

    Reply noFrom = call("GET", "/api/v1/luns/" + id + "/changed-blocks", null);
    assertThat(noFrom.status()).isEqualTo(400);
    assertThat((String) obj(noFrom).get("message")).contains("?from=");
    assertThat(call("GET", "/api/v1/luns/" + id + "/changed-blocks?from=none", null).status())
        .isEqualTo(404);
    assertThat(call("POST", "/api/v1/luns/" + id + "/changed-blocks?from=" + snap, "{}").status())
        .isEqualTo(400);

    Reply writable = call("POST", "/api/v1/luns/" + id + "/data-destroy", null);
    assertThat(writable.status()).isEqualTo(400);
    assertThat(obj(writable)).containsEntry("error", "BAD_REQUEST");
    Reply badMeta =
        call("POST", "/api/v1/luns/" + snap + "/data-destroy", "{\"metadata\":{\"a\":1}}");
    assertThat(badMeta.status()).isEqualTo(400);
    assertThat(obj(call("GET", "/api/v1/luns/" + snap, null)))
        .containsEntry("dataDestroyed", false);

    Map<String, Object> destroyed =
        obj(
            call(
                "POST",
                "/api/v1/luns/" + snap + "/data-destroy",
                "{\"metadata\":{\"type\":\"cbt_metadata\"}}"));
    assertThat(destroyed)
        .containsEntry("dataDestroyed", true)
        .containsEntry("allocatedBytes", 0L)
        .containsEntry("metadata", Map.of("type", "cbt_metadata"));
    assertThat(obj(call("GET", "/api/v1/luns/" + id + "/changed-blocks?from=" + snap, null)))
        .isEqualTo(diff);
    Reply cloneOfDestroyed = call("POST", "/api/v1/luns/" + snap + "/clone", "{\"name\":\"c\"}");
    assertThat(cloneOfDestroyed.status()).isEqualTo(400);
  }
}
