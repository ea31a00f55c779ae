package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link RestartSafetyIT}'s scenarios with the records in PostgreSQL (a pool's database): a real
 * server started by the test, one new database per data directory, the packaged server pointed at
 * it with {@code XSM_DB_URL}. Every record must survive a clean stop and a kill -9 as it does in
 * H2, with nothing of it in the data directory's own database.
 */
class RestartSafetyPostgresIT extends RestartSafetyIT {
  private static Postgres pg;
  private final Map<Path, String> databases = new HashMap<>();

  private static Path clusterDir;

  /**
   * The cluster goes in the system's temporary directory, not under the build: as root it runs as
   * the {@code postgres} user, who may not be able to reach a checkout under a private home.
   */
  @BeforeAll
  static void startPostgres() throws Exception {
    clusterDir = Files.createTempDirectory("xsm-pg-");
    pg = Postgres.start(clusterDir);
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (pg != null) {
      pg.close();
    }
    if (clusterDir != null) {
      try (Stream<Path> s = Files.walk(clusterDir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** The records are in PostgreSQL (read back with psql), and no H2 file was made beside them. */
  @AfterEach
  void recordsAreInPostgres() throws Exception {
    for (Map.Entry<Path, String> e : databases.entrySet()) {
      assertThat(e.getKey().resolve("db")).as("no embedded database").doesNotExist();
      assertThat(
              Long.parseLong(
                  pg.psql(e.getValue(), "SELECT count(*) FROM xapi_object WHERE cls = 'VM'")))
          .as("VM records in " + e.getValue())
          .isPositive();
    }
  }

  @Override
  Map<String, String> databaseEnv(Path data) throws Exception {
    String db = databases.get(data);
    if (db == null) {
      db = "xsm_" + (databases.size() + 1) + "_" + Math.abs(data.hashCode());
      pg.createDatabase(db);
      databases.put(data, db);
    }
    return pg.serverEnv(db);
  }
}
