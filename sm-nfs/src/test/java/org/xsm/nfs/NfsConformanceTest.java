package org.xsm.nfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SmDriver;
import org.xsm.api.SrConfig;
import org.xsm.nfs.testing.GaneshaServer;
import org.xsm.plugins.conformance.SmConformanceKit;
import org.xsm.plugins.conformance.SrFixture;
import org.xsm.plugins.conformance.VhdDirectoryBackdoor;

/**
 * The SM conformance kit against the NFS backend speaking NFSv3 to a real nfs-ganesha on 127.0.0.1,
 * started for this class and stopped after it. Each SR is a directory of the export.
 */
class NfsConformanceTest extends SmConformanceKit {
  static final SmDriver DRIVER =
      ServiceLoader.load(SmDriver.class).stream()
          .map(ServiceLoader.Provider::get)
          .filter(d -> d.info().type().equals("nfs"))
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("no SmDriver of type nfs registered"));

  @TempDir static Path work;
  static GaneshaServer ganesha;

  @BeforeAll
  static void startGanesha() throws IOException {
    ganesha = GaneshaServer.start(work);
  }

  @AfterAll
  static void stopGanesha() throws IOException {
    if (ganesha != null) {
      ganesha.stop();
    }
  }

  /**
   * The device_config of SRs in a new directory of the test server's export, so that each fixture
   * probes storage of its own.
   */
  static Map<String, String> deviceConfig(String directory) {
    return Map.of(
        "server",
        "127.0.0.1",
        "serverpath",
        GaneshaServer.EXPORT + "/" + directory,
        "options",
        "timeo=50,retrans=3");
  }

  /** More device_config for the SRs of a subclass: none here. */
  Map<String, String> extraDeviceConfig() {
    return Map.of();
  }

  @Override
  protected SrFixture newSrFixture() throws IOException {
    Path dir = Files.createTempDirectory(ganesha.exportDir(), "srs-");
    String sr = UUID.randomUUID().toString();
    Map<String, String> device =
        new java.util.HashMap<>(deviceConfig(dir.getFileName().toString()));
    device.putAll(extraDeviceConfig());
    SrConfig config = new SrConfig(sr, device, Map.of());
    return new SrFixture(DRIVER, config, new VhdDirectoryBackdoor(dir.resolve(sr)));
  }
}
