package org.xsm.ext;

import java.util.Map;

/**
 * The conformance kit again, with the garbage collector running as soon as a delete or a scan kicks
 * it (no quiet period), so that it coalesces and deletes while the kit's operations and I/O go on:
 * nothing the kit checks may change because of it.
 */
class ExtConformanceWithEagerGcTest extends ExtConformanceTest {
  @Override
  Map<String, String> otherConfig() {
    return Map.of("gc-quiet-period-ms", "0");
  }
}
