package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Session;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Packaged servers on this machine, each in its own network namespace with its own address ({@link
 * TestNetwork}), the first one's records in a real PostgreSQL listening on the bridge: the hosts of
 * a test pool, before they join. Closing stops them all and deletes their data; their logs stay in
 * {@link #dir()} for a failed run's reader.
 */
final class PoolServers implements AutoCloseable {
  static final String PASSWORD = "xsm-test-root";

  /** One server: its namespace, address, data directory, process and log. */
  record Member(int index, String ns, String address, Path data, Process process, Path log) {
    URL url() throws Exception {
      return new URL("http://" + address + ":8080/");
    }

    String output() {
      try {
        return Files.readString(log, StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }

    Connection login() throws Exception {
      Connection c = new Connection(url());
      Session.loginWithPassword(c, "root", PASSWORD, "2.21");
      return c;
    }

    void kill9() throws Exception {
      process.destroyForcibly();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    String hostUuid() throws IOException {
      return Files.readString(data.resolve("host-uuid")).strip();
    }
  }

  private final Path dir;
  private final Path pgDir;
  private final TestNetwork net;
  private final Postgres pg;
  private final List<Member> hosts = new ArrayList<>();
  private org.xsm.nfs.testing.GaneshaServer ganesha;

  private PoolServers(Path dir, Path pgDir, TestNetwork net, Postgres pg) {
    this.dir = dir;
    this.pgDir = pgDir;
    this.net = net;
    this.pg = pg;
  }

  /**
   * {@code count} servers whose domains are {@code domains} ("simulator" or "qemu"), the first with
   * the pool's database.
   */
  static PoolServers start(int count, String domains) throws Exception {
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "xsm-pool-it-");
    TestNetwork net = TestNetwork.create();
    // Its own directory: as root the cluster runs as postgres, which must reach it.
    Path pgDir = Files.createTempDirectory(Path.of("/tmp"), "xsm-pool-pg-");
    Postgres pg = null;
    PoolServers s = null;
    try {
      pg = Postgres.start(pgDir, net.gateway(), net.cidr());
      pg.createDatabase("xsm_pool");
      s = new PoolServers(dir, pgDir, net, pg);
      for (int i = 1; i <= count; i++) {
        s.hosts.add(s.startHost(i, domains));
      }
      return s;
    } catch (Exception | AssertionError e) {
      if (s != null) {
        s.close();
      } else {
        if (pg != null) {
          pg.close();
        }
        net.close();
      }
      throw e;
    }
  }

  Path dir() {
    return dir;
  }

  TestNetwork net() {
    return net;
  }

  Member host(int i) {
    return hosts.get(i - 1);
  }

  List<Member> hosts() {
    return hosts;
  }

  /**
   * A shared NFS SR on nfs-ganesha listening on the bridge, made through {@code master} (the first
   * host's connection), a PBD for every host of the pool.
   */
  com.xensource.xenapi.SR sharedNfsSr(Connection master, String name) throws Exception {
    return com.xensource.xenapi.SR.create(
        master,
        com.xensource.xenapi.Host.getByUuid(master, host(1).hostUuid()),
        nfsShare(),
        0L,
        name,
        "",
        "nfs",
        "user",
        true,
        Map.of());
  }

  /**
   * The {@code device_config} of an NFS SR on nfs-ganesha listening on the bridge (started at the
   * first call, stopped with the servers).
   */
  Map<String, String> nfsShare() throws Exception {
    if (ganesha == null) {
      ganesha = org.xsm.nfs.testing.GaneshaServer.start(dir.resolve("ganesha"), "0.0.0.0");
    }
    return Map.of(
        "server",
        net.gateway(),
        "serverpath",
        org.xsm.nfs.testing.GaneshaServer.EXPORT,
        "options",
        "port=" + ganesha.nfsPort() + ",mountport=" + ganesha.mountd().getPort());
  }

  private Member startHost(int i, String domains) throws Exception {
    String ns = net.addHost(i);
    Path data = dir.resolve("host" + i);
    Files.createDirectories(data);
    String jar = System.getProperty("xsm.server.jar", "target/quarkus-app/quarkus-run.jar");
    Path log = dir.resolve("host" + i + ".log");
    List<String> cmd =
        TestNetwork.in(
            ns,
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-jar",
                Path.of(jar).toAbsolutePath().toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> env = pb.environment();
    env.put("XSM_ROOT_PASSWORD", PASSWORD);
    env.put("XSM_DATA_DIR", data.toString());
    env.put("XSM_HOST_ADDRESS", net.address(i));
    env.put("XSM_HTTP_BIND", "0.0.0.0");
    env.put("QUARKUS_HTTP_PORT", "8080");
    env.put("XSM_HTTPS_PORT", "8443");
    env.put("XSM_NBD_PORT", "10809");
    env.put("XSM_DOMAINS", domains);
    env.put("XSM_POOL_HEARTBEAT_MS", "500");
    // Long enough that a member starved of CPU on a loaded machine is not taken for dead.
    env.put("XSM_POOL_HOST_TIMEOUT_MS", "15000");
    if (i == 1) {
      env.put("XSM_DB_URL", pg.url(net.gateway(), "xsm_pool"));
      env.put("XSM_DB_USER", Postgres.USER);
      env.put("XSM_DB_PASSWORD", Postgres.PASSWORD);
    }
    pb.redirectErrorStream(true);
    Process process = pb.start();
    Member m = new Member(i, ns, net.address(i), data, process, log);
    // The server's output goes to its log; the start is over when both ready lines have gone by.
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread tee =
        new Thread(
            () -> {
              boolean server = false;
              boolean http = false;
              try (var in =
                      new BufferedReader(
                          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                  var out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
                for (String line; (line = in.readLine()) != null; ) {
                  out.write(line);
                  out.newLine();
                  out.flush();
                  server |= line.contains("xsm XenAPI server ready");
                  http |= line.contains("Listening on:");
                  if (server && http) {
                    ready.complete(null);
                  }
                }
              } catch (IOException e) {
                ready.completeExceptionally(e);
              }
              ready.completeExceptionally(new IOException("the server's output ended"));
            },
            "host" + i + "-log");
    tee.setDaemon(true);
    tee.start();
    try {
      ready.get(120, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      fail("host " + i + " not ready (" + e + "):\n" + m.output());
    }
    return m;
  }

  /** Polls {@code check} until it holds (bounded): for state that changes after a call returns. */
  static void await(String what, long seconds, ThrowingCheck check) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Throwable last = null;
    while (System.nanoTime() < deadline) {
      try {
        if (check.holds()) {
          return;
        }
      } catch (Exception | AssertionError e) {
        last = e;
      }
      Thread.sleep(50); // a poll interval: the loop ends on the state
    }
    fail(what + " within " + seconds + " s" + (last == null ? "" : ": " + last));
  }

  interface ThrowingCheck {
    boolean holds() throws Exception;
  }

  @Override
  public void close() throws Exception {
    if (ganesha != null) {
      ganesha.stop();
    }
    for (Member m : hosts) {
      m.process().destroyForcibly();
      m.process().waitFor(30, TimeUnit.SECONDS);
    }
    pg.close();
    net.close();
    // The data goes; the servers' logs stay in the directory for a failed run's reader.
    List<Path> gone = new ArrayList<>(List.of(pgDir));
    for (Member m : hosts) {
      gone.add(m.data());
    }
    for (Path p : gone) {
      if (Files.exists(p)) {
        try (var walk = Files.walk(p)) {
          walk.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        }
      }
    }
  }
}
