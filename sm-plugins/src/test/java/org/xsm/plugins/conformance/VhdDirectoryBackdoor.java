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
    for (String ext : new String[] {".vhd", ".qcow2"}) {
      Path file = dir.resolve(location + ext);
      if (Files.isRegularFile(file)) {
        return file;
      }
    }
    throw new NoSuchFileException(
        dir.resolve(location + ".vhd").toString(), null, "no image file for VDI " + location);
  }

  @Override
  public String copyVdiData(String location, String newUuid) throws IOException {
    Path from = vhd(location);
    String name = from.getFileName().toString();
    Files.copy(from, dir.resolve(newUuid + name.substring(name.lastIndexOf('.'))));
    return newUuid;
  }

  @Override
  public void removeVdiData(String location) throws IOException {
    Files.delete(vhd(location));
  }
}
