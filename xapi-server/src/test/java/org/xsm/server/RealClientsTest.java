package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xsm.server.ChildProcess.Result;

/**
 * The server driven by two real XenAPI clients, each through a script in {@code src/test/clients}:
 * XenAPI.py as Debian's python3-os-xenapi ships it, and Xen Orchestra's npm connector {@code
 * xen-api}. The scripts check what they see and exit non-zero naming the first failed check.
 *
 * <p>Missing prerequisites fail the test (never skip it), saying what to install; {@code .ci/test}
 * installs them.
 */
@QuarkusTest
class RealClientsTest {
  private static final Path CLIENTS = Path.of("src/test/clients");
  private static final long TIMEOUT_SECONDS = 300;
  private static final String USER = "root";
  private static final String PASSWORD = "xsm-test-root";

  @TestHTTPResource("/")
  URL url;

  /** The server's address without a path (IPv4 loopback: node may resolve localhost to ::1). */
  private String base() {
    String host = "localhost".equals(url.getHost()) ? "127.0.0.1" : url.getHost();
    return "http://" + host + ":" + url.getPort();
  }

  @Test
  void xenApiPy() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    if (!Files.isExecutable(python)) {
      fail("/usr/bin/python3 is missing: apt-get install python3 python3-os-xenapi");
    }
    Result probe = run(List.of(python.toString(), "-c", "import os_xenapi.client.XenAPI"), 60);
    if (probe.exit() != 0) {
      fail(
          "XenAPI.py is not importable by /usr/bin/python3: apt-get install python3-os-xenapi"
              + " (or run .ci/test)\n"
              + probe.output());
    }
    // No path in the URL: XenAPI.py then posts to /RPC2, as it does against xapi.
    Result r =
        run(
            List.of(
                python.toString(),
                CLIENTS.resolve("xenapi_py_test.py").toString(),
                base(),
                USER,
                PASSWORD),
            TIMEOUT_SECONDS);
    assertPassed("xenapi_py_test.py", r, "xenapi_py_test: all checks passed");
  }

  @Test
  void xenOrchestraXenApi() throws Exception {
    Result version;
    try {
      version = run(List.of("node", "--version"), 60);
    } catch (IOException e) {
      fail("node is not installed (" + e.getMessage() + "): apt-get install nodejs npm");
      return;
    }
    assertThat(version.exit()).as("node --version: %s", version.output()).isZero();
    int major = Integer.parseInt(version.output().trim().replaceAll("^v(\\d+).*$", "$1"));
    if (major < 18) {
      fail("xen-api needs node >= 18, found " + version.output().trim());
    }
    if (!Files.isRegularFile(CLIENTS.resolve("node_modules/xen-api/package.json"))) {
      fail(
          "the npm package xen-api is not installed: run 'npm ci' in xapi-server/src/test/clients"
              + " (or run .ci/test)");
    }
    Result r =
        run(
            List.of(
                "node", CLIENTS.resolve("xo_xen_api_test.mjs").toString(), base(), USER, PASSWORD),
            TIMEOUT_SECONDS);
    assertPassed("xo_xen_api_test.mjs", r, "xo_xen_api_test: all checks passed");
  }

  private static void assertPassed(String script, Result r, String lastLine) {
    if (r.timedOut()) {
      fail(script + " did not finish within " + TIMEOUT_SECONDS + " s; its output:\n" + r.output());
    }
    if (r.exit() != 0 || !r.output().contains(lastLine)) {
      fail(script + " failed (exit " + r.exit() + "); its output:\n" + r.output());
    }
    System.out.println(script + ": " + lastLine);
  }

  private static Result run(List<String> command, long timeoutSeconds)
      throws IOException, InterruptedException {
    return ChildProcess.run(command, null, timeoutSeconds);
  }
}
