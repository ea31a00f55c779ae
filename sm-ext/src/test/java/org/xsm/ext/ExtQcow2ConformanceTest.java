package org.xsm.ext;

import java.nio.file.Path;
import java.util.Map;
import org.xsm.plugins.filesr.FileSr;

/**
 * The conformance kit against the EXT backend with every VDI a qcow2 image ({@code
 * device_config:preferred-image-formats=qcow2}): snapshots, clones, GC, CBT, scans and I/O work the
 * same on both formats.
 */
class ExtQcow2ConformanceTest extends ExtConformanceTest {
  @Override
  Map<String, String> deviceConfig(Path dir) {
    return Map.of("path", dir.toString(), FileSr.PREFERRED_FORMATS_KEY, "qcow2");
  }
}
