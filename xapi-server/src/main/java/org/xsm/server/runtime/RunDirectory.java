package org.xsm.server.runtime;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Where the server keeps UNIX-domain sockets that outlive it (the local NBD socket, each QEMU
 * domain's monitor and serial console). A socket path is limited to 107 bytes, which a data
 * directory deep in a build tree exceeds, so the directory is {@code <tmp>/xsm-<hash of the data
 * directory>}: short, and the same for every start on the same data, which is what lets a restarted
 * server find the sockets of the domains it left running. Mode 0700: only the server's user
 * connects.
 */
@ApplicationScoped
public class RunDirectory {
  @ConfigProperty(name = "xsm.data-dir", defaultValue = "./xsm-data")
  String dataDir;

  /**
   * The run directory of the server whose data directory is {@code dataDir}, made outside CDI: for
   * tests and benchmarks that run several "hosts" in one JVM.
   */
  public static RunDirectory forDataDir(Path dataDir) {
    RunDirectory r = new RunDirectory();
    r.dataDir = dataDir.toString();
    return r;
  }

  /** The directory for {@code dataDir} (created, mode 0700). */
  public Path path() throws IOException {
    Path p = of(Path.of(dataDir));
    if (!Files.isDirectory(p)) {
      Files.createDirectories(p);
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    }
    return p;
  }

  /** The data directory itself (absolute). */
  public Path dataDir() {
    return Path.of(dataDir).toAbsolutePath().normalize();
  }

  /** The run directory that belongs to a data directory (tests use it to find the sockets). */
  public static Path of(Path dataDir) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest(
                  dataDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
      return Path.of(
          System.getProperty("java.io.tmpdir"), "xsm-" + HexFormat.of().formatHex(h, 0, 6));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
