package org.xsm.plugins.filesr;

import java.util.EnumSet;
import java.util.List;
import org.xsm.api.Capability;
import org.xsm.api.DriverInfo;
import org.xsm.api.SmDriver;

/** The driver description of a {@link FileSr} made directly by a test: every capability. */
final class TestDriverInfo {
  static final DriverInfo INFO =
      new DriverInfo(
          "test",
          "test",
          "test",
          "xsm",
          "",
          "1",
          SmDriver.API_VERSION,
          EnumSet.allOf(Capability.class),
          List.of(),
          List.of("vhd"));

  private TestDriverInfo() {}
}
