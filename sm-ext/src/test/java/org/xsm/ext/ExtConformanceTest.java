package org.xsm.ext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.UUID;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SmDriver;
import org.xsm.api.SrConfig;
import org.xsm.plugins.conformance.SmConformanceKit;
import org.xsm.plugins.conformance.SrFixture;
import org.xsm.plugins.conformance.VhdDirectoryBackdoor;

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
    SrConfig config = new SrConfig(UUID.randomUUID().toString(), deviceConfig(dir), otherConfig());
    return new SrFixture(DRIVER, config, new VhdDirectoryBackdoor(dir));
  }

  /** The SRs' {@code device_config}: the directory. */
  Map<String, String> deviceConfig(Path dir) {
    return Map.of("path", dir.toString());
  }

  /** The SRs' {@code other_config}: none here. */
  Map<String, String> otherConfig() {
    return Map.of();
  }
}
