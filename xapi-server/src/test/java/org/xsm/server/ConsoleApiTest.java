package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.xsm.api.VdiDevice;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.sr.SrService;

/**
 * What the console relies on beyond XenAPI records: the XenAPI session accepted by the REST API,
 * the SR view with VHD trees, the reasons a VM can't be snapshotted (the same checks VM.snapshot
 * makes), and task progress for copies and GC coalesces, seen through {@code event.from} as a
 * client sees it.
 */
@QuarkusTest
class ConsoleApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MIB = 1024 * 1024;

  @Test
  void writeCallsLoginsAndRefusalsReachTheAuditTrailWithoutSecrets() throws Exception {
    String root = login("root", "xsm-test-root");
    String vm = rpc("VM.create", root, Map.of("name_label", "audited")).asText();
    rpc("VM.set_name_description", root, vm, "audited too");
    assertThat(rpcRaw("session.login_with_password", "rb-read", "not-the-password-42").get("error"))
        .isNotNull();
    String reader = login("rb-read", "rb-read-pw");
    assertThat(rpcRaw("VM.destroy", reader, vm).get("error").get("message").asText())
        .isEqualTo("RBAC_PERMISSION_DENIED");
    JsonNode entries = JSON.readTree(rest("GET", "/api/audit?limit=50", root).body());
    List<String> lines = new java.util.ArrayList<>();
    entries.forEach(
        e ->
            lines.add(
                e.get("user").asText()
                    + " "
                    + e.get("message").asText()
                    + " "
                    + e.get("refs")
                    + " "
                    + e.get("outcome").asText()
                    + " "
                    + e.get("source").asText()));
    assertThat(lines)
        .anyMatch(l -> l.startsWith("root VM.create [] success"))
        .anyMatch(l -> l.startsWith("root VM.set_name_description [\"" + vm + "\"] success"))
        .anyMatch(
            l ->
                l.startsWith(
                    "rb-read session.login_with_password [] SESSION_AUTHENTICATION_FAILED"))
        .anyMatch(l -> l.startsWith("rb-read VM.destroy [\"" + vm + "\"] RBAC_PERMISSION_DENIED"))
        .allMatch(l -> l.endsWith("127.0.0.1"));
    assertThat(rest("GET", "/api/audit", reader).statusCode())
        .as("pool-admins only")
        .isEqualTo(403);
    // The file holds the same, and never a password.
    java.nio.file.Path file =
        java.nio.file.Path.of(
            org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("xsm.data-dir", String.class),
            "audit",
            "audit.log");
    String text = java.nio.file.Files.readString(file);
    assertThat(text)
        .contains("VM.set_name_description")
        .doesNotContain("not-the-password-42")
        .doesNotContain("xsm-test-root")
        .doesNotContain("rb-read-pw");
    rpc("VM.destroy", root, vm);
  }

  @Test
  void theConsoleAndItsApiCarryAStrictContentSecurityPolicy() throws Exception {
    for (String path : List.of("/console/", "/console/js/app.js", "/api/whoami")) {
      HttpResponse<String> r = rest("GET", path, null);
      String csp = r.headers().firstValue("Content-Security-Policy").orElse("");
      assertThat(csp).as(path).contains("script-src 'self'").contains("frame-ancestors 'none'");
      assertThat(csp).as(path).doesNotContain("unsafe-inline").doesNotContain("unsafe-eval");
      assertThat(r.headers().firstValue("X-Frame-Options")).as(path).contains("DENY");
    }
    // The page itself has no inline script for the policy to forbid.
    String page = rest("GET", "/console/", null).body();
    assertThat(page).containsPattern("<script[^>]*src=").doesNotContainPattern("<script>");
  }

  @TestHTTPResource("/")
  URL url;

  @Inject SrService storage;
  @Inject Database db;

  private final HttpClient http = HttpClient.newHttpClient();

  private JsonNode rpc(String method, Object... params) throws Exception {
    JsonNode r = rpcRaw(method, params);
    assertThat(r.get("error")).as("%s: %s", method, r).isNull();
    return r.get("result");
  }

  private JsonNode rpcRaw(String method, Object... params) throws Exception {
    String body =
        JSON.writeValueAsString(
            Map.of("jsonrpc", "2.0", "method", method, "params", List.of(params), "id", 1));
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(url + "jsonrpc"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    return JSON.readTree(http.send(req, HttpResponse.BodyHandlers.ofString()).body());
  }

  private HttpResponse<String> rest(String method, String path, String session) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url + path.substring(1)))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (session != null) {
      b.header("X-XenAPI-Session", session);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String login(String user, String pw) throws Exception {
    return rpc("session.login_with_password", user, pw).asText();
  }

  private String defaultSr(String s) throws Exception {
    return rpc("pool.get_all_records", s).elements().next().get("default_SR").asText();
  }

  private String vdi(String s, String name, long size, boolean sharable) throws Exception {
    return rpc(
            "VDI.create",
            s,
            Map.of(
                "SR", defaultSr(s),
                "virtual_size", size,
                "name_label", name,
                "type", "user",
                "sharable", sharable))
        .asText();
  }

  private String vmWithDisk(String s, String name, boolean sharable) throws Exception {
    String vm = rpc("VM.create", s, Map.of("name_label", name)).asText();
    String disk = vdi(s, name + " disk", 64 * MIB, sharable);
    rpc("VBD.create", s, Map.of("VM", vm, "VDI", disk, "userdevice", "0", "type", "Disk"));
    return vm;
  }

  @Test
  void consoleIsServedAndTheServerAddressLeadsToIt() throws Exception {
    for (String path : List.of("/", "/console")) {
      HttpResponse<String> r = rest("GET", path, null);
      assertThat(r.statusCode()).as(path).isEqualTo(302);
      assertThat(r.headers().firstValue("Location")).as(path).contains("/console/");
    }
    HttpResponse<String> page = rest("GET", "/console/", null);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("<script type=\"module\" src=\"js/app.js\">");
    for (String file :
        List.of(
            "app.js",
            "api.js",
            "dialogs.js",
            "dom.js",
            "store.js",
            "vms.js",
            "storage.js",
            "tasks.js")) {
      assertThat(rest("GET", "/console/js/" + file, null).statusCode()).as(file).isEqualTo(200);
    }
  }

  @Test
  void restApiTakesTheXenApiSession() throws Exception {
    String root = login("root", "xsm-test-root");
    String auditor = login("auditor", "auditor-pw");
    String vm = vmWithDisk(root, "session-auth", false);
    String uuid = rpc("VM.get_uuid", root, vm).asText();
    String snap = rpc("VM.snapshot", root, vm, "s1").asText();
    String snapUuid = rpc("VM.get_uuid", root, snap).asText();

    HttpResponse<String> tree = rest("GET", "/api/vms/" + uuid + "/snapshot-tree", auditor);
    assertThat(tree.statusCode()).as(tree.body()).isEqualTo(200);
    assertThat(JSON.readTree(tree.body()).get("current").asText()).isEqualTo(snapUuid);

    HttpResponse<String> bogus = rest("GET", "/api/vms/" + uuid + "/snapshot-tree", "OpaqueRef:x");
    assertThat(bogus.statusCode()).isEqualTo(401);
    // No Basic challenge when a session was sent: a browser must not prompt for a password.
    assertThat(bogus.headers().firstValue("WWW-Authenticate")).isEmpty();

    JsonNode who = JSON.readTree(rest("GET", "/api/whoami", auditor).body());
    assertThat(who.get("user").asText()).isEqualTo("auditor");
    assertThat(who.get("read_only").asBoolean()).isTrue();
    assertThat(rest("DELETE", "/api/snapshots/" + snapUuid, auditor).statusCode()).isEqualTo(403);
    assertThat(rest("DELETE", "/api/snapshots/" + snapUuid, root).statusCode()).isEqualTo(204);

    rpc("session.logout", root);
    assertThat(rest("GET", "/api/whoami", root).statusCode()).isEqualTo(401);
  }

  @Test
  void srViewDrawsBaseCopiesSnapshotsAndLeaves() throws Exception {
    String s = login("root", "xsm-test-root");
    String name = "tree-" + UUID.randomUUID();
    String leaf = vdi(s, name, 16 * MIB, false);
    String leafUuid = rpc("VDI.get_uuid", s, leaf).asText();
    String snap = rpc("VDI.snapshot", s, leaf, Map.of()).asText();
    String snapUuid = rpc("VDI.get_uuid", s, snap).asText();

    String srUuid = rpc("SR.get_uuid", s, defaultSr(s)).asText();
    JsonNode sr = null;
    for (JsonNode each : JSON.readTree(rest("GET", "/api/srs", s).body())) {
      sr = each.get("uuid").asText().equals(srUuid) ? each : sr;
    }
    assertThat(sr).as("the default SR in /api/srs").isNotNull();
    assertThat(sr.get("gc").get("status").asText()).isNotEmpty();
    JsonNode backlog = sr.get("gc").get("backlog");
    assertThat(backlog.get("reclaimable_bytes").asLong()).isNotNegative();
    assertThat(backlog.get("longest_chain").asInt()).as("the leaf's chain").isPositive();
    assertThat(sr.get("gc").get("counters").has("bytes_copied")).isTrue();
    JsonNode base = null;
    for (JsonNode root : sr.get("trees")) {
      for (JsonNode child : root.get("children")) {
        if (child.get("uuid").asText().equals(leafUuid)) {
          base = root;
        }
      }
    }
    assertThat(base).as("a tree whose root holds the leaf").isNotNull();
    assertThat(base.get("base_copy").asBoolean()).isTrue();
    assertThat(base.get("chain_depth").asInt()).isEqualTo(1);
    List<String> kids = new ArrayList<>();
    for (JsonNode k : base.get("children")) {
      kids.add(k.get("uuid").asText());
      assertThat(k.get("chain_depth").asInt()).isEqualTo(2);
      assertThat(k.get("is_a_snapshot").asBoolean())
          .isEqualTo(k.get("uuid").asText().equals(snapUuid));
    }
    assertThat(kids).containsExactlyInAnyOrder(leafUuid, snapUuid);
    assertThat(rest("GET", "/api/srs", null).statusCode()).isEqualTo(401);
  }

  @Test
  void snapshotBlockersMatchWhatVmSnapshotRefuses() throws Exception {
    String s = login("root", "xsm-test-root");
    String shared = vmWithDisk(s, "shared-disk", true);
    String template = vmWithDisk(s, "template", false);
    rpc("VM.set_is_a_template", s, template, true);
    String fine = vmWithDisk(s, "fine", false);

    JsonNode blockers = JSON.readTree(rest("GET", "/api/vms/snapshot-blockers", s).body());
    assertThat(blockers.get(rpc("VM.get_uuid", s, shared).asText()).asText()).contains("sharable");
    assertThat(blockers.get(rpc("VM.get_uuid", s, template).asText()).asText())
        .contains("template");
    assertThat(blockers.has(rpc("VM.get_uuid", s, fine).asText())).isFalse();

    assertThat(rpcRaw("VM.snapshot", s, shared, "x").get("error").get("message").asText())
        .isEqualTo("VDI_IS_SHARABLE");
    assertThat(rpcRaw("VM.snapshot", s, template, "x").get("error").get("message").asText())
        .isEqualTo("VM_IS_TEMPLATE");
    assertThat(rpc("VM.snapshot", s, fine, "x").asText()).startsWith("OpaqueRef:");

    // A checkpoint is refused before any memory is saved, and the VM runs on.
    rpc("VM.start", s, shared, false, false);
    int vdis = rpc("VDI.get_all", s).size();
    assertThat(rpcRaw("VM.checkpoint", s, shared, "x").get("error").get("message").asText())
        .isEqualTo("VDI_IS_SHARABLE");
    assertThat(rpc("VM.get_power_state", s, shared).asText()).isEqualTo("Running");
    assertThat(rpc("VDI.get_all", s).size()).as("no suspend VDI left").isEqualTo(vdis);
    rpc("VM.hard_shutdown", s, shared);
  }

  @Test
  void aDiskOnAnSrWhoseDriverCantSnapshotBlocksTheVm() throws Exception {
    String s = login("root", "xsm-test-root");
    // An SR record of a type no installed driver serves (as after removing a plugin): no driver
    // there can snapshot, so neither the console nor VM.snapshot may try.
    Ref<Sr> srRef =
        db.create(
            Sr.CLASS, Values.of(Sr.CLASS).with(Sr.NAME_LABEL, "orphan").with(Sr.TYPE, "gone"));
    Ref<Vdi> diskRef =
        db.create(
            Vdi.CLASS,
            Values.of(Vdi.CLASS)
                .with(Vdi.SR, srRef)
                .with(Vdi.NAME_LABEL, "orphan disk")
                .with(Vdi.LOCATION, "x")
                .with(Vdi.VIRTUAL_SIZE, MIB));
    String sr = srRef.value();
    String disk = diskRef.value();
    String vm = rpc("VM.create", s, Map.of("name_label", "on-orphan-sr")).asText();
    String vbd =
        rpc("VBD.create", s, Map.of("VM", vm, "VDI", disk, "userdevice", "0", "type", "Disk"))
            .asText();
    try {
      JsonNode blockers = JSON.readTree(rest("GET", "/api/vms/snapshot-blockers", s).body());
      assertThat(blockers.get(rpc("VM.get_uuid", s, vm).asText()).asText())
          .contains("'orphan disk'", "SR 'orphan' (type gone)", "can't snapshot");
      JsonNode refused = rpcRaw("VM.snapshot", s, vm, "x").get("error");
      assertThat(refused.get("message").asText()).isEqualTo("SR_OPERATION_NOT_SUPPORTED");
      assertThat(refused.get("data").get(0).asText()).isEqualTo(sr);
    } finally {
      // Other tests in this server walk every SR: leave none without a driver behind.
      db.destroy(Vbd.CLASS, Ref.of(vbd));
      db.destroy(Vm.CLASS, Ref.of(vm));
      db.destroy(Vdi.CLASS, diskRef);
      db.destroy(Sr.CLASS, srRef);
    }
  }

  @Test
  void copyReportsProgressThroughTaskEvents() throws Exception {
    String s = login("root", "xsm-test-root");
    String src = vdi(s, "copy-progress", 64 * MIB, false);
    fill(src, 64 * MIB);
    String token = rpc("event.inject", s, "pool", rpc("pool.get_all", s).get(0).asText()).asText();
    String task = rpc("Async.VDI.copy", s, src, defaultSr(s)).asText();
    String uuid = taskUuid(s, task);
    List<Double> seen = watch(s, token, t -> t.get("uuid").asText().equals(uuid), v -> true);
    assertThat(rpc("task.get_status", s, task).asText()).isEqualTo("success");
    assertThat(seen).as("progress values").isSorted().last().isEqualTo(1.0);
    assertThat(seen.stream().filter(p -> p > 0 && p < 1).distinct().count())
        .as("progress between 0 and 1: %s", seen)
        .isGreaterThanOrEqualTo(2);
  }

  @Test
  void gcCoalesceIsATaskWithProgress() throws Exception {
    String s = login("root", "xsm-test-root");
    String disk = vdi(s, "gc-progress", 256 * MIB, false);
    fill(disk, 16 * MIB);
    String first = rpc("VDI.snapshot", s, disk, Map.of()).asText();
    // What the middle base copy holds is what the GC copies into its parent.
    fill(disk, 192 * MIB);
    rpc("VDI.snapshot", s, disk, Map.of());
    String token = rpc("event.inject", s, "pool", rpc("pool.get_all", s).get(0).asText()).asText();
    // Deleting the first snapshot leaves its base copy with one child: the GC coalesces them.
    rpc("VDI.destroy", s, first);
    rpc("SR.scan", s, defaultSr(s));
    List<Double> seen =
        watch(
            s,
            token,
            t -> "SR.gc_coalesce".equals(t.get("name_label").asText()),
            v -> v.stream().anyMatch(p -> p > 0 && p < 1));
    assertThat(seen).last().isEqualTo(1.0);
    assertThat(seen.stream().filter(p -> p > 0 && p < 1).count())
        .as("coalesce progress between 0 and 1: %s", seen)
        .isGreaterThanOrEqualTo(1);
  }

  /**
   * Follows task events from {@code token} until a task matching {@code which} (by record) finishes
   * with progress values that {@code enough} accepts; returns those values.
   */
  private List<Double> watch(
      String s,
      String token,
      java.util.function.Predicate<JsonNode> which,
      java.util.function.Predicate<List<Double>> enough)
      throws Exception {
    Map<String, List<Double>> seen = new java.util.HashMap<>();
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      JsonNode batch = rpc("event.from", s, List.of("task"), token, 5.0);
      token = batch.get("token").asText();
      for (JsonNode ev : batch.get("events")) {
        JsonNode t = ev.get("snapshot");
        if (t == null || !which.test(t) || !t.has("progress")) {
          continue;
        }
        List<Double> values = seen.computeIfAbsent(ev.get("ref").asText(), k -> new ArrayList<>());
        values.add(t.get("progress").asDouble());
        if (!"pending".equals(t.get("status").asText()) && enough.test(values)) {
          return values;
        }
      }
    }
    throw new AssertionError("no task finished as expected within 60 s; progress seen: " + seen);
  }

  private String taskUuid(String s, String task) throws Exception {
    return rpc("task.get_uuid", s, task).asText();
  }

  private void fill(String vdiRef, long bytes) throws Exception {
    VdiDevice dev = storage.activate(Ref.of(vdiRef), true);
    try {
      byte[] chunk = new byte[(int) MIB];
      new Random(bytes).nextBytes(chunk);
      for (long off = 0; off < bytes; off += chunk.length) {
        dev.write(ByteBuffer.wrap(chunk), off);
      }
      dev.flush();
    } finally {
      storage.deactivate(Ref.of(vdiRef));
    }
  }
}
