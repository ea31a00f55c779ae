package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.xsm.server.session.LocalUsers;
import org.xsm.server.session.Sessions;

/** Roles, session expiry, and the operator endpoints (metrics, health). */
@QuarkusTest
class SecurityAndOpsTest {
  @TestHTTPResource("/")
  URL url;

  @Inject Sessions sessions;
  @Inject LocalUsers localUsers;

  @Test
  void readOnlyRoleCanReadButNotWrite() throws Exception {
    localUsers.setPassword("viewer", "viewer-pw", "read-only");
    Connection c = new Connection(url);
    Session.loginWithPassword(c, "viewer", "viewer-pw", "2.21");
    Pool pool = Pool.getAll(c).iterator().next();
    assertThat(pool.getNameLabel(c)).isNotEmpty();
    VDI.Record r = new VDI.Record();
    r.nameLabel = "nope";
    r.SR = pool.getDefaultSR(c);
    r.virtualSize = 1024L * 1024;
    r.type = Types.VdiType.USER;
    r.otherConfig = Map.of();
    r.tags = Set.of();
    assertThatThrownBy(() -> VDI.create(c, r)).isInstanceOf(Types.RbacPermissionDenied.class);
    assertThatThrownBy(() -> pool.setNameLabel(c, "renamed"))
        .isInstanceOf(Types.RbacPermissionDenied.class);
    assertThat(pool.getNameLabel(c)).isNotEqualTo("renamed");
    Session.logout(c);
  }

  @Test
  void usersFromXsmUsersLogInWithTheirRole() throws Exception {
    Connection c = new Connection(url);
    Session.loginWithPassword(c, "auditor", "auditor-pw", "2.21");
    Pool pool = Pool.getAll(c).iterator().next();
    assertThatThrownBy(() -> pool.setNameLabel(c, "x"))
        .isInstanceOf(Types.RbacPermissionDenied.class);
    Session.logout(c);
  }

  @Test
  void parameterCountErrorsLeaveTheSessionOutAsXapiDoes() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String login =
        "{\"jsonrpc\":\"2.0\",\"method\":\"session.login_with_password\","
            + "\"params\":[\"root\",\"xsm-test-root\"],\"id\":1}";
    String s = post(http, login).replaceAll(".*\"result\":\"([^\"]+)\".*", "$1");
    String r =
        post(
            http,
            "{\"jsonrpc\":\"2.0\",\"method\":\"VDI.get_record\",\"params\":[\""
                + s
                + "\"],\"id\":2}");
    assertThat(r)
        .contains("\"MESSAGE_PARAMETER_COUNT_MISMATCH\"")
        .contains("[\"VDI.get_record\",\"1\",\"0\"]");
  }

  private String post(HttpClient http, String body) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create(url + "jsonrpc"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void idleSessionsExpire() throws Exception {
    Connection c = new Connection(url);
    Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
    try {
      sessions.setIdleMillis(300);
      Thread.sleep(600);
      assertThatThrownBy(() -> Pool.getAll(c)).isInstanceOf(Types.SessionInvalid.class);
    } finally {
      sessions.setIdleMillis(86_400_000L);
    }
  }

  @Test
  void metricsCountCallsByMethodAndHealthIsUp() throws Exception {
    Connection c = new Connection(url);
    Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
    Pool.getAll(c);
    Session.logout(c);
    HttpClient http = HttpClient.newHttpClient();
    String metrics =
        http.send(
                HttpRequest.newBuilder(URI.create(url + "q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics).contains("xapi_rpc_calls_seconds_count{method=\"pool.get_all\"");
    assertThat(metrics).contains("xsm_sm_operations_total");
    assertThat(metrics).contains("xsm_gc_runs{sr=\"");
    assertThat(metrics).contains("xsm_gc_bytes_copied{sr=\"");
    HttpResponse<String> health =
        http.send(
            HttpRequest.newBuilder(URI.create(url + "q/health/ready")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).contains("\"status\": \"UP\"");
  }
}
