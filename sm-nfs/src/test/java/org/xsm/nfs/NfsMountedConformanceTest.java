package org.xsm.nfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SrConfig;
import org.xsm.plugins.conformance.SmConformanceKit;
import org.xsm.plugins.conformance.SrFixture;
import org.xsm.plugins.conformance.VhdDirectoryBackdoor;

/**
 * The SM conformance kit against the NFS backend in mounted mode ({@code
 * device_config:mountpoint}): a local directory stands in for the kernel's mount of the export, and
 * the SR is {@code mountpoint/<sr_uuid>} in it, used as EXT uses its directory.
 */
class NfsMountedConformanceTest extends SmConformanceKit {
  @TempDir Path tempDir;

  @Override
  protected SrFixture newSrFixture() throws IOException {
    Path mountpoint = Files.createTempDirectory(tempDir, "mnt-");
    String sr = UUID.randomUUID().toString();
    SrConfig config = new SrConfig(sr, Map.of("mountpoint", mountpoint.toString()), Map.of());
    return new SrFixture(
        NfsConformanceTest.DRIVER, config, new VhdDirectoryBackdoor(mountpoint.resolve(sr)));
  }
}
