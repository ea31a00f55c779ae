package org.xsm.server;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a node script of {@code src/test/clients} (Xen Orchestra's connector and friends) against
 * the test server and fails, saying what to install, when node or an npm package is missing, and
 * with the script's output when it does not end with {@code "<name>: all checks passed"}.
 */
final class NodeClients {
  static final Path CLIENTS = Path.of("src/test/clients");

  private NodeClients() {}

  /** The server's address without a path (IPv4 loopback: node may resolve localhost to ::1). */
  static String base(URL url) {
    String host = "localhost".equals(url.getHost()) ? "127.0.0.1" : url.getHost();
    return "http://" + host + ":" + url.getPort();
  }

  /**
   * Runs {@code script} with the server's base URL, root's credentials and {@code more} arguments.
   *
   * @param packages the npm packages it needs
   * @return what it printed
   */
  static String run(URL url, String script, List<String> packages, String... more)
      throws InterruptedException {
    for (String p : packages) {
      if (!Files.isRegularFile(CLIENTS.resolve("node_modules/" + p + "/package.json"))) {
        fail(
            "the npm package "
                + p
                + " is not installed: run 'npm ci' in "
                + CLIENTS
                + " (or .ci/test)");
      }
    }
    List<String> command = new ArrayList<>(List.of("node", CLIENTS.resolve(script).toString()));
    command.addAll(List.of(base(url), "root", "xsm-test-root"));
    command.addAll(List.of(more));
    ChildProcess.Result r;
    try {
      r = ChildProcess.run(command, null, 180);
    } catch (IOException e) {
      fail("node is not installed (" + e.getMessage() + "): apt-get install nodejs npm");
      return "";
    }
    String name = script.replaceAll("\\.mjs$", "");
    if (r.timedOut() || r.exit() != 0 || !r.output().contains(name + ": all checks passed")) {
      fail(script + " failed (exit " + r.exit() + "); its output:\n" + r.output());
    }
    System.out.println(script + ": all checks passed");
    return r.output();
  }
}
