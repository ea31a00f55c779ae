package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * HTTP/1.1 only, as xapi: a client that offers an h2c upgrade (the JDK's HttpClient does by
 * default) stays on HTTP/1.1. Upgraded connections ended by a transfer's Connection: close failed
 * the client's next request with GOAWAY.
 */
@QuarkusTest
class Http11OnlyTest {
  @TestHTTPResource("/")
  URL url;

  @Test
  void anH2cUpgradeIsNotTaken() throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create(url + "console/")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isLessThan(500);
    assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
  }
}
