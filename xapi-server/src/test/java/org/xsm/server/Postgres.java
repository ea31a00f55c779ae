package org.xsm.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for the tests: Debian's {@code postgresql} binaries, a new cluster in a
 * directory of the build, listening on a free port of 127.0.0.1 with password authentication,
 * stopped (and its cluster left for the logs) by {@link #close}. As root, the cluster belongs to
 * and runs as the {@code postgres} user, since PostgreSQL refuses to run as root.
 */
final class Postgres implements AutoCloseable {
  static final String USER = "xsm";
  static final String PASSWORD = "xsm-test-db-pw";

  private final Path bin;
  private final Path data;
  private final int port;
  private final boolean asPostgres;

  private Postgres(Path bin, Path data, int port, boolean asPostgres) {
    this.bin = bin;
    this.data = data;
    this.port = port;
    this.asPostgres = asPostgres;
  }

  /** Makes a cluster under {@code dir} and starts it, on 127.0.0.1 only. */
  static Postgres start(Path dir) throws Exception {
    return start(dir, null, null);
  }

  /**
   * Makes a cluster under {@code dir} and starts it on 127.0.0.1 and also on {@code address} (if
   * given), accepting password logins from {@code network} (a CIDR, if given): the hosts of a test
   * pool, each in its own network namespace, reach it there.
   */
  static Postgres start(Path dir, String address, String network) throws Exception {
    Path bin = binaries();
    Files.createDirectories(dir);
    boolean root = "root".equals(System.getProperty("user.name"));
    Path pw = dir.resolve("pwfile");
    Files.writeString(pw, PASSWORD + "\n");
    if (root) {
      run(List.of("chown", "-R", "postgres:postgres", dir.toString()), false);
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Postgres pg = new Postgres(bin, dir.resolve("cluster"), port, root);
    pg.pg(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            pg.data.toString(),
            "-U",
            USER,
            "--pwfile=" + pw,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync"));
    if (network != null) {
      Path hba = pg.data.resolve("pg_hba.conf");
      Files.writeString(
          hba,
          "host all all " + network + " scram-sha-256\n",
          java.nio.file.StandardOpenOption.APPEND);
    }
    pg.pg(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            pg.data.toString(),
            "-l",
            dir.resolve("postgres.log").toString(),
            "-o",
            "-p "
                + port
                + " -k "
                + dir
                + " -c listen_addresses=127.0.0.1"
                + (address == null ? "" : "," + address)
                + " -c fsync=on",
            "-w",
            "-t",
            "60",
            "start"));
    return pg;
  }

  /** A new, empty database; its JDBC URL. */
  String createDatabase(String name) throws Exception {
    psql("postgres", "CREATE DATABASE " + name);
    return url(name);
  }

  String url(String database) {
    return url("127.0.0.1", database);
  }

  /** The JDBC URL of a database at {@code address} (one the cluster listens on). */
  String url(String address, String database) {
    return "jdbc:postgresql://" + address + ":" + port + "/" + database;
  }

  /** The server's environment for a database of this cluster. */
  Map<String, String> serverEnv(String database) {
    return Map.of("XSM_DB_URL", url(database), "XSM_DB_USER", USER, "XSM_DB_PASSWORD", PASSWORD);
  }

  /** Runs SQL with psql (the independent reader of what the server wrote); its output. */
  String psql(String database, String sql) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
                bin.resolve("psql").toString(),
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                "" + port,
                "-U",
                USER,
                "-d",
                database,
                "-c",
                sql)
            .redirectErrorStream(true);
    pb.environment().put("PGPASSWORD", PASSWORD);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException("psql " + sql + " failed:\n" + out);
    }
    return out.strip();
  }

  @Override
  public void close() throws Exception {
    pg(
        List.of(
            bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "stop"));
  }

  private void pg(List<String> cmd) throws Exception {
    run(cmd, asPostgres);
  }

  private static void run(List<String> cmd, boolean asPostgres) throws Exception {
    List<String> c = new ArrayList<>();
    if (asPostgres) {
      c.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    c.addAll(cmd);
    Process p = new ProcessBuilder(c).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", c) + " failed:\n" + out);
    }
  }

  /** Debian's PostgreSQL binaries (the newest installed major version). */
  private static Path binaries() throws IOException {
    Path base = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(base)) {
      throw new IOException(
          "PostgreSQL is not installed (/usr/lib/postgresql missing): apt-get install postgresql,"
              + " which ./xsm test does");
    }
    try (Stream<Path> s = Files.list(base)) {
      return s.filter(p -> Files.isExecutable(p.resolve("bin/initdb")))
          .max((a, b) -> Integer.compare(major(a), major(b)))
          .orElseThrow(() -> new IOException("no PostgreSQL binaries under " + base))
          .resolve("bin");
    }
  }

  private static int major(Path p) {
    try {
      return Integer.parseInt(p.getFileName().toString());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
