package org.xsm.iscsi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.xsm.api.SmDriver;
import org.xsm.api.SmException;
import org.xsm.api.SrConfig;
import org.xsm.iscsi.control.ControlClient;
import org.xsm.plugins.conformance.SmConformanceKit;
import org.xsm.plugins.conformance.SrBackdoor;
import org.xsm.plugins.conformance.SrFixture;

/**
 * The SM conformance kit against the iscsi driver and the real storage array, run as child
 * processes: each SR fixture gets an array of its own (the kit wants storage that holds no other
 * SR, e.g. for probe), its devices go through the plugin's own initiator over TCP. An array starts
 * in a fraction of a second; those of a test are stopped when the next test begins, so that the
 * kit's own clean-up after each test still reaches them.
 */
class IscsiConformanceTest extends SmConformanceKit {
  private static final SmDriver DRIVER =
      ServiceLoader.load(SmDriver.class).stream()
          .map(ServiceLoader.Provider::get)
          .filter(d -> d.info().type().equals("iscsi"))
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("no SmDriver of type iscsi registered"));

  private static final List<ArrayProcess> ARRAYS = new ArrayList<>();
  private static Path dir;

  @BeforeAll
  static void makeDirectory() throws IOException {
    dir = Files.createTempDirectory("xsm-iscsi-conformance");
  }

  @BeforeEach
  void stopArraysOfThePreviousTest() throws Exception {
    stopArrays();
  }

  @AfterAll
  static void stopArraysAndRemoveTheirPools() throws Exception {
    stopArrays();
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static void stopArrays() throws InterruptedException {
    synchronized (ARRAYS) {
      for (ArrayProcess a : ARRAYS) {
        a.close();
      }
      ARRAYS.clear();
    }
  }

  @Override
  protected SrFixture newSrFixture() throws IOException {
    ArrayProcess array = ArrayProcess.start(Files.createTempDirectory(dir, "pool-"));
    synchronized (ARRAYS) {
      ARRAYS.add(array);
    }
    SrConfig config = new SrConfig(UUID.randomUUID().toString(), array.deviceConfig());
    ControlClient client =
        new ControlClient(
            array.controlUrl(), ArrayProcess.USER, ArrayProcess.PASSWORD, Duration.ofSeconds(30));
    return new SrFixture(DRIVER, config, new ArrayBackdoor(client, config.srUuid()));
  }

  @Override
  protected boolean snapshotsLeaveBaseCopies() {
    return false;
  }

  @Override
  protected int maxChainDepth() {
    return 0;
  }

  /** Changes LUNs with the array's control API directly, as an operator would. */
  private record ArrayBackdoor(ControlClient client, String srUuid) implements SrBackdoor {
    @Override
    public String copyVdiData(String location, String newUuid) throws IOException {
      try {
        return client
            .cloneLun(
                location,
                "operator copy",
                Map.of(
                    LunMetadata.SR, srUuid,
                    LunMetadata.ROLE, LunMetadata.ROLE_VDI,
                    LunMetadata.VDI_UUID, newUuid))
            .id();
      } catch (SmException e) {
        throw new IOException(e);
      }
    }

    @Override
    public void removeVdiData(String location) throws IOException {
      try {
        client.deleteLun(location);
      } catch (SmException e) {
        throw new IOException(e);
      }
    }
  }
}
