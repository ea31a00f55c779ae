package org.xsm.server.pool;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * This host's place in a pool, kept in the data directory ({@code pool-role.json}, mode 0600: it
 * holds the pool secret and the pool database's password). A lone host has no file and is its own
 * master.
 *
 * @param role master or member
 * @param masterAddress where the master is (host or host:port), for a member
 * @param secret the pool secret (xapi's {@code pool_secret}): members log in to the master with it,
 *     and the master to members
 * @param database the pool's database, which a member loads when it becomes the master
 * @param certificates every host's certificate (PEM) by its address, which the others trust for
 *     calls to it (xapi's pool certificate bundle); the master's list is sent to members with each
 *     heartbeat's answer
 */
public record PoolRole(
    Role role,
    String masterAddress,
    String secret,
    PoolDatabase database,
    java.util.Map<String, String> certificates) {

  public PoolRole {
    certificates = certificates == null ? java.util.Map.of() : java.util.Map.copyOf(certificates);
  }

  /** Master or member. */
  public enum Role {
    MASTER,
    MEMBER
  }

  /** A pool's database: a JDBC URL and its credentials. */
  public record PoolDatabase(String url, String user, String password) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  static final String FILE = "pool-role.json";

  /** A lone host's role. */
  static PoolRole lone() {
    return new PoolRole(Role.MASTER, null, null, null, java.util.Map.of());
  }

  @com.fasterxml.jackson.annotation.JsonIgnore
  boolean member() {
    return role == Role.MEMBER;
  }

  PoolRole memberOf(String address) {
    return new PoolRole(Role.MEMBER, address, secret, database, certificates);
  }

  PoolRole asMaster() {
    return new PoolRole(Role.MASTER, null, secret, database, certificates);
  }

  PoolRole withCertificates(java.util.Map<String, String> all) {
    return new PoolRole(role, masterAddress, secret, database, all);
  }

  /** The certificate of the host at {@code address}, which calls to it must find. */
  String certificateOf(String address) throws org.xsm.server.model.XenApiException {
    String pem = certificates.get(address);
    if (pem == null) {
      throw new org.xsm.server.model.XenApiException(
          org.xsm.server.model.XenApiError.CANNOT_CONTACT_HOST,
          address,
          "no certificate of that host is known here");
    }
    return pem;
  }

  /** The role recorded under {@code dataDir}, or a lone host's. */
  static PoolRole read(Path dataDir) throws IOException {
    Path f = dataDir.resolve(FILE);
    if (!Files.exists(f)) {
      return lone();
    }
    return JSON.readValue(f.toFile(), PoolRole.class);
  }

  /** Records the role durably: written to a private file, synced, renamed into place. */
  void write(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    Path tmp = dataDir.resolve(FILE + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(tmp, JSON.writeValueAsBytes(this));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(
        tmp,
        dataDir.resolve(FILE),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }
}
