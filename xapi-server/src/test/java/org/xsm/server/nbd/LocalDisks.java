package org.xsm.server.nbd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.xsm.api.SmDriver;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.registry.PluginRegistry;

/** Real VDIs on a real local (ext) SR in a directory, activated as devices, for NBD tests. */
final class LocalDisks implements AutoCloseable {
  final Path dir;
  final Sr sr;
  private final List<String> active = new ArrayList<>();

  LocalDisks(Path dir) throws Exception {
    this.dir = dir;
    SmDriver ext = PluginRegistry.load().driver("ext");
    SrConfig cfg = new SrConfig(UUID.randomUUID().toString(), Map.of("path", dir.toString()));
    Files.createDirectories(dir);
    ext.create(cfg, 0);
    sr = ext.attach(cfg);
  }

  /** A new VDI, attached and activated writable. */
  VdiDevice newDisk(long sizeBytes) throws Exception {
    String loc = sr.createVdi(sizeBytes, VdiMetadata.named("nbd-test")).location();
    sr.attachVdi(loc, true);
    active.add(loc);
    return sr.activateVdi(loc);
  }

  /** The VHD file of the last disk created. */
  Path lastFile() {
    return dir.resolve(active.get(active.size() - 1) + ".vhd");
  }

  @Override
  public void close() throws Exception {
    for (String loc : active) {
      sr.detachVdi(loc);
    }
    sr.detach();
  }
}
