package org.xsm.server.pool;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.xsm.server.runtime.RunDirectory;

/**
 * This host's role in its pool, as recorded in the data directory ({@link PoolRole}), and every
 * change of it: written to the file before it takes effect, so a restart resumes the same role.
 */
@ApplicationScoped
public class PoolState {
  private static final SecureRandom RANDOM = new SecureRandom();

  @Inject RunDirectory dirs;
  @Inject org.xsm.server.runtime.HostIdentity identity;

  private volatile PoolRole role;

  /** The role now (read from the file on first use). */
  public PoolRole role() {
    PoolRole r = role;
    if (r == null) {
      synchronized (this) {
        if (role == null) {
          try {
            role = PoolRole.read(dirs.dataDir());
          } catch (IOException e) {
            throw new UncheckedIOException(
                "cannot read the pool role in " + dirs.dataDir().resolve(PoolRole.FILE), e);
          }
        }
        r = role;
      }
    }
    return r;
  }

  /** This host's UUID (its host record's). */
  String hostUuid() {
    return identity
        .uuid()
        .orElseThrow(() -> new IllegalStateException("this host's identity is not recorded"));
  }

  /** Whether this host is a member (not the master). */
  public boolean isMember() {
    return role().member();
  }

  /** Records a new role, then makes it the current one. */
  synchronized void become(PoolRole next) {
    try {
      next.write(dirs.dataDir());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record the pool role in " + dirs.dataDir(), e);
    }
    role = next;
  }

  /** Forgets the role: the host is a lone master again (after it was ejected). */
  synchronized void forget() {
    try {
      java.nio.file.Files.deleteIfExists(dirs.dataDir().resolve(PoolRole.FILE));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the pool role in " + dirs.dataDir(), e);
    }
    role = PoolRole.lone();
  }

  /** The pool secret, made (and recorded) the first time a master needs it. */
  synchronized String secret() {
    PoolRole r = role();
    if (r.secret() == null) {
      byte[] b = new byte[32];
      RANDOM.nextBytes(b);
      become(
          new PoolRole(
              r.role(),
              r.masterAddress(),
              HexFormat.of().formatHex(b),
              r.database(),
              r.certificates()));
    }
    return role().secret();
  }
}
