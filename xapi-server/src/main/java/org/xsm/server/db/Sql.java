package org.xsm.server.db;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.Properties;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The server's database over JDBC: H2 in the data directory for a lone host (the default), or
 * PostgreSQL for a pool ({@code XSM_DB_URL=jdbc:postgresql://host/db}, {@code XSM_DB_USER}, and the
 * password in {@code XSM_DB_PASSWORD} or the file {@code XSM_DB_PASSWORD_FILE}). Three tables: the
 * records ({@code xapi_object}, one row of JSON each), blob contents and local credentials; they
 * are created when missing, with the names and columns earlier versions made through Hibernate, so
 * an existing data directory opens unchanged.
 *
 * <p>A unit of work is one transaction on one connection ({@link #tx}); connections are kept for
 * reuse (a few: the record flush is serialized, blobs and logins are rare) and one that failed is
 * dropped, so a database restart costs the calls in flight, not the server.
 */
@ApplicationScoped
public class Sql {
  private static final Logger LOG = Logger.getLogger(Sql.class);
  private static final int KEPT = 4;

  /** The SQL that differs between the two engines. */
  public enum Kind {
    H2("CHARACTER LARGE OBJECT", "BINARY LARGE OBJECT"),
    POSTGRESQL("TEXT", "BYTEA");

    final String text;
    final String bytes;

    Kind(String text, String bytes) {
      this.text = text;
      this.bytes = bytes;
    }

    /** An insert-or-replace of a row by its first column. */
    public String upsert(String table, String... columns) {
      String cols = String.join(", ", columns);
      String marks = "?" + ", ?".repeat(columns.length - 1);
      if (this == H2) {
        return "MERGE INTO "
            + table
            + " ("
            + cols
            + ") KEY ("
            + columns[0]
            + ") VALUES ("
            + marks
            + ")";
      }
      StringBuilder set = new StringBuilder();
      for (int i = 1; i < columns.length; i++) {
        set.append(i > 1 ? ", " : "").append(columns[i]).append(" = EXCLUDED.").append(columns[i]);
      }
      return "INSERT INTO "
          + table
          + " ("
          + cols
          + ") VALUES ("
          + marks
          + ") ON CONFLICT ("
          + columns[0]
          + ") DO UPDATE SET "
          + set;
    }
  }

  /** One unit of work on a connection, in a transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  @ConfigProperty(name = "xsm.data-dir", defaultValue = "./xsm-data")
  String dataDir;

  @ConfigProperty(name = "xsm.db.url")
  Optional<String> configuredUrl;

  @ConfigProperty(name = "xsm.db.user")
  Optional<String> user;

  @ConfigProperty(name = "xsm.db.password")
  Optional<String> password;

  @ConfigProperty(name = "xsm.db.password-file")
  Optional<String> passwordFile;

  private final Deque<Connection> idle = new ArrayDeque<>();

  /** The connections of the database in use now; one of an earlier database is closed on return. */
  private final java.util.Set<Connection> current =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Set by {@link #use}: the database chosen at run time instead of the configured one. */
  private Coordinates chosen;

  private String url;
  private Kind kind;
  private boolean ready;

  public synchronized Kind kind() {
    start();
    return kind;
  }

  /** Where the records are: the JDBC URL, a password in it masked (for logs and errors). */
  public synchronized String url() {
    start();
    return shown(url);
  }

  /** The URL with the value of any password parameter masked. */
  static String shown(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
  }

  /**
   * Runs {@code work} in a transaction and commits it; on any failure the transaction is rolled
   * back and the failure thrown as an {@link IllegalStateException} with the database's reason.
   */
  public <T> T tx(Work<T> work) {
    Connection c = take();
    boolean healthy = false;
    try {
      T result = work.run(c);
      c.commit();
      healthy = true;
      return result;
    } catch (SQLException e) {
      rollback(c);
      healthy = isValid(c);
      throw new IllegalStateException("database " + shown(url) + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      rollback(c);
      healthy = isValid(c);
      throw e;
    } finally {
      give(c, healthy);
    }
  }

  /**
   * A database's coordinates.
   *
   * @param url its JDBC URL
   * @param user the user to connect as
   * @param password that user's password
   */
  public record Coordinates(String url, String user, String password) {
    @Override
    public String toString() {
      return shown(url) + " as " + user; // never the password
    }
  }

  /** The database in use and how to connect to it (handed to a host joining the pool). */
  public synchronized Coordinates coordinates() {
    start();
    try {
      return new Coordinates(url, userName(), passwordValue());
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /**
   * Switches to another database (a pool member becoming the master loads the pool's): the kept
   * connections are closed, those in use are closed when given back, and the next unit of work
   * opens the new database (creating its tables if missing).
   */
  public synchronized void use(Coordinates database) {
    switchTo(database);
  }

  /** Switches back to the configured database (a host that stops being a pool's master). */
  public synchronized void useConfigured() {
    switchTo(null);
  }

  private void switchTo(Coordinates database) {
    chosen = database;
    ready = false;
    while (!idle.isEmpty()) {
      Connection c = idle.pop();
      current.remove(c);
      closeQuietly(c);
    }
    current.clear();
    start();
  }

  private synchronized void start() {
    if (ready) {
      return;
    }
    url =
        chosen != null
            ? chosen.url()
            : configuredUrl
                .filter(u -> !u.isBlank())
                .orElse(
                    "jdbc:h2:file:"
                        + Path.of(dataDir).toAbsolutePath().resolve("db").resolve("xapi")
                        // WRITE_DELAY=0: each commit is on disk when it returns (H2 would otherwise
                        // write commits up to 500 ms later, and a kill -9 would lose them)
                        + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0");
    if (url.startsWith("jdbc:h2:")) {
      kind = Kind.H2;
    } else if (url.startsWith("jdbc:postgresql:")) {
      kind = Kind.POSTGRESQL;
    } else {
      throw new IllegalArgumentException(
          "XSM_DB_URL " + shown(url) + " is neither jdbc:h2: nor jdbc:postgresql:");
    }
    ready = true;
    try {
      Connection c = open();
      createTables(c);
      idle.push(c); // kept for the first unit of work
    } catch (SQLException e) {
      ready = false;
      throw new IllegalStateException(
          "cannot open the database " + shown(url) + ": " + e.getMessage(), e);
    }
    LOG.infof("database: %s (%s)", shown(url), kind);
  }

  private void createTables(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS xapi_object (ref VARCHAR(64) PRIMARY KEY,"
              + " cls VARCHAR(32) NOT NULL, uuid VARCHAR(64) NOT NULL, fields "
              + kind.text
              + " NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS xapi_blob (ref VARCHAR(64) PRIMARY KEY,"
              + " owner VARCHAR(64) NOT NULL, data "
              + kind.bytes
              + " NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS xsm_credential (name VARCHAR(128) PRIMARY KEY,"
              + " salt VARCHAR(64) NOT NULL, hash VARCHAR(128) NOT NULL, role VARCHAR(32) NOT NULL)");
      c.commit();
    }
  }

  private String userName() {
    return chosen != null ? chosen.user() : user.orElse("");
  }

  private String passwordValue() throws SQLException {
    if (chosen != null) {
      return chosen.password();
    }
    String pw = password.orElse(null);
    if (pw == null && passwordFile.isPresent()) {
      try {
        pw = Files.readString(Path.of(passwordFile.get())).strip();
      } catch (java.io.IOException e) {
        throw new SQLException("cannot read XSM_DB_PASSWORD_FILE " + passwordFile.get(), e);
      }
    }
    return pw == null ? "" : pw;
  }

  private Connection open() throws SQLException {
    Properties props = new Properties();
    String u;
    String pw;
    Kind k;
    String at;
    synchronized (this) {
      u = userName();
      pw = passwordValue();
      k = kind;
      at = url;
    }
    props.setProperty("user", u);
    props.setProperty("password", pw);
    // The driver itself, not DriverManager: its service lookup depends on the class loader that
    // first touched it, which under Quarkus is not always the application's.
    Driver driver = k == Kind.H2 ? new org.h2.Driver() : new org.postgresql.Driver();
    Connection c = driver.connect(at, props);
    if (c == null) {
      throw new SQLException("the " + k + " driver does not take the URL " + shown(at));
    }
    synchronized (this) {
      if (at.equals(url)) {
        current.add(c);
      }
    }
    c.setAutoCommit(false);
    c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
    return c;
  }

  private Connection take() {
    synchronized (this) {
      start();
      if (!idle.isEmpty()) {
        return idle.pop();
      }
    }
    try {
      return open();
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot connect to the database " + shown(url) + ": " + e.getMessage(), e);
    }
  }

  private void give(Connection c, boolean healthy) {
    synchronized (this) {
      if (healthy && idle.size() < KEPT && current.contains(c)) {
        idle.push(c);
        return;
      }
      current.remove(c);
    }
    closeQuietly(c);
  }

  private static void rollback(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      LOG.debugf("rollback failed (the connection is dropped): %s", e.getMessage());
    }
  }

  private static boolean isValid(Connection c) {
    try {
      return c.isValid(2);
    } catch (SQLException e) {
      return false;
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      LOG.debugf("closing a dropped connection: %s", e.getMessage());
    }
  }

  @PreDestroy
  synchronized void close() {
    while (!idle.isEmpty()) {
      closeQuietly(idle.pop());
    }
  }
}
