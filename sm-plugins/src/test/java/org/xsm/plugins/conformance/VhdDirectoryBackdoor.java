package org.xsm.plugins.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The backdoor of VHD-tree SRs whose directory the test can reach as a local path (EXT, an NFS
 * export seen from the server's side, a mount point): one {@code <uuid>.vhd} per VDI, directly in
 * the SR's directory.
 *
 * @param dir the SR's directory
 */
public record VhdDirectoryBackdoor(Path dir) implements SrBackdoor {
  private Path vhd(String location) throws NoSuchFileException {
    Path file = dir.resolve(location + ".vhd");
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "no VHD file for VDI " + location);
    }
    return file;
  }

  @Override
  public String copyVdiData(String location, String newUuid) throws IOException {
    Files.copy(vhd(location), dir.resolve(newUuid + ".vhd"));
    return newUuid;
  }

  @Override
  public void removeVdiData(String location) throws IOException {
    Files.delete(vhd(location));
  }
}
