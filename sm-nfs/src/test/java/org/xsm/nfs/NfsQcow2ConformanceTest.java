package org.xsm.nfs;

import java.util.Map;
import org.xsm.plugins.filesr.FileSr;

/**
 * The conformance kit over NFS with every VDI a qcow2 image ({@code
 * device_config:preferred-image-formats=qcow2}).
 */
class NfsQcow2ConformanceTest extends NfsConformanceTest {
  @Override
  Map<String, String> extraDeviceConfig() {
    return Map.of(FileSr.PREFERRED_FORMATS_KEY, "qcow2");
  }
}
