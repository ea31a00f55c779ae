package org.xsm.server.runtime;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Which host record is this host: its UUID, kept in the data directory ({@code host-uuid}). A lone
 * host has one host record and needs nothing more; in a pool the database holds every member's, and
 * this file is how a server finds its own (as xapi's inventory file holds {@code
 * INSTALLATION_UUID}). Written once, by atomic rename, when the host record is first made or the
 * file found missing.
 */
@ApplicationScoped
public class HostIdentity {
  @Inject RunDirectory dirs;

  private volatile String uuid;

  private Path file() {
    return dirs.dataDir().resolve("host-uuid");
  }

  /** This host's UUID, if known. */
  public synchronized Optional<String> uuid() {
    if (uuid == null) {
      Path f = file();
      try {
        if (Files.exists(f)) {
          uuid = Files.readString(f, StandardCharsets.US_ASCII).strip();
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read this host's identity " + f, e);
      }
    }
    return Optional.ofNullable(uuid);
  }

  /** Records this host's UUID (durably: the file is renamed into place after a sync). */
  public synchronized void set(String hostUuid) {
    Path f = file();
    try {
      Files.createDirectories(f.getParent());
      Path tmp = f.resolveSibling("host-uuid.tmp");
      Files.writeString(tmp, hostUuid + "\n", StandardCharsets.US_ASCII);
      try (var ch =
          java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record this host's identity in " + f, e);
    }
    uuid = hostUuid;
  }
}
