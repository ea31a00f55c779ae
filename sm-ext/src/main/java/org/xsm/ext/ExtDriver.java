package org.xsm.ext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.xsm.api.ConfigKey;
import org.xsm.api.DriverInfo;
import org.xsm.api.SmDriver;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.plugins.filesr.FileSrDriver;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.LocalImageStore;

/**
 * The EXT backend (SR type {@code ext}): VHD trees in a local directory, {@code device_config:path}
 * being where the filesystem is mounted. Everything else is the VHD-tree SR base.
 */
public final class ExtDriver extends FileSrDriver {
  private static final DriverInfo INFO =
      new DriverInfo(
          "ext",
          "Local EXT SR",
          "VHD files in a local directory (a mounted ext filesystem), as xapi's EXTSR",
          "xsm",
          "(C) the xsm authors",
          "1.0",
          SmDriver.API_VERSION,
          FileSrDriver.CAPABILITIES,
          withGcKeys(
              new ConfigKey(
                  "path",
                  "Directory where the SR's filesystem is mounted, e.g. /run/sr-mount/local;"
                      + " must exist",
                  true)),
          List.of("vhd", "qcow2"));

  @Override
  public DriverInfo info() {
    return INFO;
  }

  @Override
  protected ImageStore openStore(Map<String, String> deviceConfig) throws SmException {
    String path = deviceConfig.get("path");
    if (path == null || path.isBlank()) {
      throw new SmException(SmError.BAD_REQUEST, "device_config:path is required");
    }
    Path dir = Path.of(path);
    if (!Files.isDirectory(dir)) {
      throw new SmException(
          SmError.SR_UNAVAILABLE, "device_config:path " + path + " is not a directory");
    }
    try {
      return LocalImageStore.open(dir);
    } catch (IOException e) {
      throw new SmException(SmError.SR_UNAVAILABLE, "cannot open " + path + ": " + e, e);
    }
  }
}
