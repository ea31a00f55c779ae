package org.xsm.server.session;

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
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Password guessing slows down and then locks, per user and source address, over the wire; the
 * throttle's clock is moved by the test, never slept on.
 */
@QuarkusTest
class LoginThrottleTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TestHTTPResource("/jsonrpc")
  URL jsonrpc;

  @Inject LoginThrottle throttle;

  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  @AfterEach
  void realClock() {
    throttle.setClock(System::currentTimeMillis);
  }

  /** The login's error description, or null when it succeeded. */
  private List<String> login(String user, String password) throws Exception {
    String body =
        JSON.writeValueAsString(
            Map.of(
                "jsonrpc",
                "2.0",
                "method",
                "session.login_with_password",
                "params",
                List.of(user, password),
                "id",
                1));
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(jsonrpc.toString()))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    JsonNode n = JSON.readTree(r.body());
    if (n.get("error") == null || n.get("error").isNull()) {
      return null;
    }
    List<String> out = new java.util.ArrayList<>();
    out.add(n.get("error").get("message").asText());
    n.get("error").get("data").forEach(x -> out.add(x.asText()));
    return out;
  }

  @Test
  void failuresSlowDownThenLockAndASuccessClearsThem() throws Exception {
    throttle.setClock(now::get);
    String user = "rb-vmadmin";
    String right = "rb-vmadmin-pw";
    for (int i = 0; i < LoginThrottle.FREE_FAILURES; i++) {
      assertThat(login(user, "wrong"))
          .containsExactly("SESSION_AUTHENTICATION_FAILED", user, "Authentication failure");
    }
    // Now even the right password must wait a second, and is not checked meanwhile.
    assertThat(login(user, right)).element(2).asString().contains("try again in 1 s");
    now.addAndGet(1000);
    assertThat(login(user, right)).as("after the delay, it succeeds").isNull();
    // The success cleared the record: three free failures again, then the delays grow to a lock.
    for (int i = 0; i < LoginThrottle.LOCK_AFTER; i++) {
      now.addAndGet(LoginThrottle.MAX_DELAY_MS);
      assertThat(login(user, "wrong")).first().isEqualTo("SESSION_AUTHENTICATION_FAILED");
    }
    now.addAndGet(LoginThrottle.MAX_DELAY_MS);
    assertThat(login(user, right)).element(2).asString().contains("locked");
    // Another user from the same address is not affected.
    assertThat(login("rb-read", "rb-read-pw")).isNull();
    now.addAndGet(LoginThrottle.LOCK_MS);
    assertThat(login(user, right)).as("the lock ends").isNull();
  }
}
