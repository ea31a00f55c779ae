package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VM;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The snapshot tree REST API: shape, current marker, deletion modes, roles, OpenAPI. */
@QuarkusTest
class SnapshotTreeApiTest {
  @TestHTTPResource("/")
  URL url;

  private final HttpClient http = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();

  private HttpResponse<String> send(String method, String path, String user, String pw)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path.substring(1)));
    if (user != null) {
      b.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder()
                  .encodeToString((user + ":" + pw).getBytes(StandardCharsets.UTF_8)));
    }
    b.method(method, HttpRequest.BodyPublishers.noBody());
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode tree(String vmUuid) throws Exception {
    HttpResponse<String> r =
        send("GET", "/api/vms/" + vmUuid + "/snapshot-tree", "root", "xsm-test-root");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  @Test
  void branchesCurrentMarkerAndDeletionModes() throws Exception {
    Connection c = new Connection(url);
    Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
    VM.Record r = new VM.Record();
    r.nameLabel = "tree";
    r.otherConfig = Map.of();
    VM vm = VM.create(c, r);
    String u = vm.getUuid(c);
    VM base = vm.snapshot(c, "base");
    VM a = vm.snapshot(c, "A");
    base.revert(c);
    VM b = vm.snapshot(c, "B");
    String bUuid = b.getUuid(c);

    JsonNode t = tree(u);
    assertThat(t.get("current").asText()).isEqualTo(b.getUuid(c));
    assertThat(t.get("roots")).hasSize(1);
    JsonNode root = t.get("roots").get(0);
    assertThat(root.get("name").asText()).isEqualTo("base");
    assertThat(root.get("powerStateAtSnapshot").asText()).isEqualTo("Halted");
    assertThat(root.get("children")).hasSize(2);

    // Read-only users and anonymous callers.
    assertThat(send("GET", "/api/vms/" + u + "/snapshot-tree", null, null).statusCode())
        .isEqualTo(401);
    assertThat(
            send("DELETE", "/api/snapshots/" + a.getUuid(c), "auditor", "auditor-pw").statusCode())
        .isEqualTo(403);

    // Deleting the base alone: its children move up and become roots.
    assertThat(
            send("DELETE", "/api/snapshots/" + base.getUuid(c), "root", "xsm-test-root")
                .statusCode())
        .isEqualTo(204);
    t = tree(u);
    assertThat(t.get("roots")).hasSize(2);
    assertThat(b.getParent(c)).isEqualTo(Types.toVM("OpaqueRef:NULL"));

    // Metadata only: the snapshot record goes, its disks stay.
    VM c1 = vm.snapshot(c, "C");
    assertThat(
            send(
                    "DELETE",
                    "/api/snapshots/" + c1.getUuid(c) + "?mode=metadata-only",
                    "root",
                    "xsm-test-root")
                .statusCode())
        .isEqualTo(204);
    assertThat(tree(u).get("current").isNull()).isFalse();

    // With descendants: A and everything below it.
    VM a2 = vm.snapshot(c, "A2");
    a2.getUuid(c);
    assertThat(
            send(
                    "DELETE",
                    "/api/snapshots/" + b.getUuid(c) + "?mode=with-descendants",
                    "root",
                    "xsm-test-root")
                .statusCode())
        .isEqualTo(204);
    t = tree(u);
    assertThat(t.toString()).doesNotContain("\"B\"");
    assertThat(send("DELETE", "/api/snapshots/" + bUuid, "root", "xsm-test-root").statusCode())
        .isEqualTo(404);
    assertThat(send("DELETE", "/api/snapshots/" + u, "root", "xsm-test-root").statusCode())
        .isEqualTo(400);
    Session.logout(c);
  }

  @Test
  void theApiIsInTheOpenApiDocument() throws Exception {
    HttpResponse<String> r = send("GET", "/q/openapi", null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .contains("/api/vms/{uuid}/snapshot-tree")
        .contains("/api/snapshots/{uuid}");
  }
}
