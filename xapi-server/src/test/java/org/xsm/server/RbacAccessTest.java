package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.xsm.server.rbac.RbacTest.denied;
import static org.xsm.server.rbac.RbacTest.login;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.Role;
import com.xensource.xenapi.Secret;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Subject;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.User;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.xsm.server.session.LocalUsers;
import org.xsm.server.session.Sessions;

/**
 * Subjects, the session administration messages, secrets, and the checks outside XenAPI calls (HTTP
 * transfers, the console's REST API), through the Java SDK, plain HTTP and XenAPI.py.
 */
@QuarkusTest
class RbacAccessTest extends SdkTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @Inject Sessions sessions;
  @Inject LocalUsers localUsers;

  private Subject subjectOf(String user) throws Exception {
    for (Map.Entry<Subject, Subject.Record> e : Subject.getAllRecords(c).entrySet()) {
      if (e.getValue().subjectIdentifier.equals("xsm-local:" + user)) {
        return e.getKey();
      }
    }
    throw new AssertionError("no subject for " + user);
  }

  private static Role role(Connection x, String name) throws Exception {
    return Role.getByNameLabel(x, name).iterator().next();
  }

  @Test
  void subjectsDecideWhoLogsInAndWithWhichRole() throws Exception {
    localUsers.setPassword("rb-subject", "rb-subject-pw", "read-only");
    Subject s = subjectOf("rb-subject");
    assertThat(s.getOtherConfig(c)).containsEntry("subject-name", "rb-subject");
    s.destroy(c);
    assertThatThrownBy(() -> login(url, "rb-subject"))
        .isInstanceOf(Types.SessionAuthenticationFailed.class);

    Subject.Record r = new Subject.Record();
    r.subjectIdentifier = "xsm-local:rb-subject";
    r.otherConfig = Map.of();
    r.roles = Set.of();
    Subject again = Subject.create(c, r);
    assertThatThrownBy(() -> Subject.create(c, r)).isInstanceOf(Types.SubjectAlreadyExists.class);
    r.subjectIdentifier = "xsm-local:nobody";
    assertThatThrownBy(() -> Subject.create(c, r)).isInstanceOf(Types.AuthIsDisabled.class);
    // A subject without roles may not log in (xapi: RBAC_PERMISSION_DENIED [user, reason]).
    assertThatThrownBy(() -> login(url, "rb-subject"))
        .isInstanceOfSatisfying(
            Types.RbacPermissionDenied.class,
            e -> assertThat(e.permission).isEqualTo("rb-subject"));
    again.addToRoles(c, role(c, "vm-operator"));
    assertThatThrownBy(() -> again.addToRoles(c, role(c, "vm-operator")))
        .isInstanceOf(Types.RoleAlreadyExists.class);
    assertThatThrownBy(() -> again.addToRoles(c, role(c, "vm.start")))
        .isInstanceOf(Types.RoleNotFound.class);
    assertThatThrownBy(() -> again.removeFromRoles(c, role(c, "pool-admin")))
        .isInstanceOf(Types.RoleNotFound.class);
    assertThat(again.getPermissionsNameLabel(c))
        .isEqualTo(role(c, "vm-operator").getPermissionsNameLabel(c));
    Connection u = login(url, "rb-subject");
    assertThat(Types.toSession(u.getSessionReference()).getRbacPermissions(u)).contains("vm.start");
    denied(() -> again.removeFromRoles(u, role(u, "vm-operator")), "subject.remove_from_roles");
    Session.logout(u);
    again.removeFromRoles(c, role(c, "vm-operator"));
    assertThat(again.getRoles(c)).isEmpty();
  }

  @Test
  void sessionAdministrationAsXapi() throws Exception {
    Connection a = login(url, "rb-vmop");
    Connection b = login(url, "rb-vmop");
    String sid = Types.toSession(a.getSessionReference()).getAuthUserSid(a);
    assertThat(Session.getAllSubjectIdentifiers(c)).contains(sid);
    denied(() -> Session.logoutSubjectIdentifier(a, sid), "session.logout_subject_identifier");
    Connection poolOp = login(url, "rb-poolop");
    Session.logoutSubjectIdentifier(poolOp, sid);
    assertThatThrownBy(() -> Pool.getAll(a)).isInstanceOf(Types.SessionInvalid.class);
    assertThatThrownBy(() -> Pool.getAll(b)).isInstanceOf(Types.SessionInvalid.class);
    assertThat(Session.getAllSubjectIdentifiers(c)).doesNotContain(sid);
    Pool.getAll(poolOp); // the caller's own session stays
    // Root's own messages: nobody else, whatever the role.
    denied(() -> Session.createFromDbFile(poolOp, "/nonexistent"), "session.create_from_db_file");
    Session.logout(poolOp);
    assertThatThrownBy(() -> Session.createFromDbFile(c, "/nonexistent"))
        .isInstanceOf(Types.InternalError.class);
    Path dump = Files.createTempFile("xapi-db", ".xml");
    assertThatThrownBy(() -> Session.createFromDbFile(c, dump.toString()))
        .isInstanceOf(Types.NotImplemented.class);
    Files.delete(dump);

    // Emergency (local) login: root's password only; local_logout ends only such sessions.
    Connection local = new Connection(url);
    Session.slaveLocalLoginWithPassword(local, "root", "xsm-test-root");
    assertThat(Pool.getAll(local)).hasSize(1);
    Session.localLogout(c); // not a local session: nothing happens
    Pool.getAll(c);
    Session.localLogout(local);
    assertThatThrownBy(() -> Pool.getAll(local)).isInstanceOf(Types.SessionInvalid.class);
    assertThatThrownBy(
            () -> Session.slaveLocalLoginWithPassword(new Connection(url), "rb-pooladmin", "x"))
        .isInstanceOf(Types.SessionAuthenticationFailed.class);

    // change_password: root's, without the old one (xapi does not check it for root).
    Session.changePassword(c, "ignored", "new-root-pw");
    try {
      Connection again = new Connection(url);
      Session.loginWithPassword(again, "root", "new-root-pw", "2.21");
      Session.logout(again);
    } finally {
      Session.changePassword(c, "new-root-pw", "xsm-test-root");
    }
  }

  @Test
  void secretsAndUsers() throws Exception {
    Connection poolOp = login(url, "rb-poolop");
    Connection vmAdmin = login(url, "rb-vmadmin");
    Secret.Record r = new Secret.Record();
    r.value = "s3cret";
    r.otherConfig = Map.of("purpose", "test");
    String token = com.xensource.xenapi.Event.from(vmAdmin, Set.of("*"), "", 0.1).token;
    Secret s = Secret.create(poolOp, r);
    assertThat(s.getValue(poolOp)).isEqualTo("s3cret");
    // As xapi (gen_events:false), secrets make no events: a session that may not read a secret
    // does not see it go by either.
    assertThat(com.xensource.xenapi.Event.from(vmAdmin, Set.of("secret"), token, 0.5).events)
        .isEmpty();
    denied(() -> s.getValue(vmAdmin), "secret.get_value");
    denied(() -> s.getRecord(vmAdmin), "secret.get_record");
    denied(() -> Secret.getAllRecords(vmAdmin), "secret.get_all_records");
    assertThat(s.getOtherConfig(vmAdmin)).containsEntry("purpose", "test");
    s.setValue(poolOp, "changed");
    assertThat(Secret.getByUuid(c, s.getUuid(c)).getValue(c)).isEqualTo("changed");
    s.destroy(poolOp);
    assertThat(Secret.getAll(c)).doesNotContain(s);

    User.Record u = new User.Record();
    u.shortName = "legacy";
    u.fullname = "A deprecated user record";
    u.otherConfig = Map.of();
    denied(() -> User.create(poolOp, u), "user.create");
    User user = User.create(c, u);
    assertThat(user.getFullname(c)).isEqualTo("A deprecated user record");
    user.destroy(c);
    Session.logout(poolOp);
    Session.logout(vmAdmin);
  }

  @Test
  void httpTransfersAndTheConsoleRefuseAsXapiWould() throws Exception {
    VDI vdi = newVdi("rbac-transfer", 1024 * 1024);
    Connection ro = login(url, "rb-read");
    Connection op = login(url, "rb-vmop");
    Connection admin = login(url, "rb-vmadmin");
    HttpResponse<String> refused = export(ro, vdi);
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body())
        .contains("RBAC_PERMISSION_DENIED")
        .contains("http/get_export_raw_vdi");
    assertThat(export(op, vdi).statusCode()).isEqualTo(403);
    assertThat(export(admin, vdi).statusCode()).isEqualTo(200);
    HttpResponse<String> put =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        url
                            + "import_raw_vdi?format=raw&session_id="
                            + op.getSessionReference()
                            + "&vdi="
                            + vdi.toWireString()))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[1024 * 1024]))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).isEqualTo(403);
    assertThat(put.body()).contains("http/put_import_raw_vdi");

    JsonNode who = JSON.readTree(rest("GET", "/api/whoami", op).body());
    assertThat(who.get("role").asText()).isEqualTo("vm-operator");
    assertThat(who.get("read_only").asBoolean()).isFalse();
    assertThat(who.get("superuser").asBoolean()).isFalse();
    List<String> perms = new java.util.ArrayList<>();
    who.get("permissions").forEach(p -> perms.add(p.asText()));
    assertThat(perms).contains("vm.start", "vm.clean_shutdown").doesNotContain("vm.destroy");
    JsonNode rootWho = JSON.readTree(rest("GET", "/api/whoami", c).body());
    assertThat(rootWho.get("superuser").asBoolean()).isTrue();
    assertThat(rootWho.get("role").asText()).isEqualTo("pool-admin");
    VM.Record r = new VM.Record();
    r.nameLabel = "rbac-console";
    r.otherConfig = Map.of();
    VM vm = VM.create(c, r);
    VM snap = vm.snapshot(c, "s");
    HttpResponse<String> delete = rest("DELETE", "/api/snapshots/" + snap.getUuid(c), op);
    assertThat(delete.statusCode()).isEqualTo(403);
    assertThat(delete.body()).contains("vm.destroy");
    assertThat(rest("DELETE", "/api/snapshots/" + snap.getUuid(c), admin).statusCode())
        .isEqualTo(204);
    vm.destroy(c);
    vdi.destroy(c);
    for (Connection x : List.of(ro, op, admin)) {
      Session.logout(x);
    }
  }

  private HttpResponse<String> export(Connection who, VDI vdi) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create(
                    url
                        + "export_raw_vdi?format=raw&session_id="
                        + who.getSessionReference()
                        + "&vdi="
                        + vdi.toWireString()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> rest(String method, String path, Connection who) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url.toString().replaceAll("/$", "") + path))
            .header("X-XenAPI-Session", who.getSessionReference())
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void xenApiPySeesRolesAsAScriptDoes() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    if (!Files.isExecutable(python)) {
      fail("/usr/bin/python3 is missing: apt-get install python3 python3-os-xenapi");
    }
    String host = "localhost".equals(url.getHost()) ? "127.0.0.1" : url.getHost();
    ChildProcess.Result r =
        ChildProcess.run(
            List.of(
                python.toString(),
                "src/test/clients/xenapi_py_rbac_test.py",
                "http://" + host + ":" + url.getPort(),
                "xsm-test-root"),
            null,
            120);
    assertThat(r.timedOut()).as(r.output()).isFalse();
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).contains("xenapi_py_rbac_test: all checks passed");
  }
}
