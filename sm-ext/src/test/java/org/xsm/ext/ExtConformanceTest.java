package org.xsm.ext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.UUID;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SmDriver;
import org.xsm.api.SrConfig;
import org.xsm.plugins.conformance.SmConformanceKit;
import org.xsm.plugins.conformance.SrBackdoor;
import org.xsm.plugins.conformance.SrFixture;

/** The SM conformance kit against the EXT backend: each SR in its own temporary directory. */
class ExtConformanceTest extends SmConformanceKit {
  private static final SmDriver DRIVER =
      ServiceLoader.load(SmDriver.class).stream()
          .map(ServiceLoader.Provider::get)
          .filter(d -> d.info().type().equals("ext"))
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("no SmDriver of type ext registered"));

  @TempDir Path tempDir;

  @Override
  protected SrFixture newSrFixture() throws IOException {
    Path dir = Files.createTempDirectory(tempDir, "sr-");
    SrConfig config =
        new SrConfig(UUID.randomUUID().toString(), Map.of("path", dir.toString()), otherConfig());
    return new SrFixture(DRIVER, config, new VhdFiles(dir));
  }

  /** The SRs' {@code other_config}: none here. */
  Map<String, String> otherConfig() {
    return Map.of();
  }

  /** The EXT layout: one {@code <uuid>.vhd} per VDI, directly in the SR's directory. */
  private record VhdFiles(Path dir) implements SrBackdoor {
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
}
