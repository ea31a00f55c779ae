package org.xsm.server.boot;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.xsm.api.SmException;
import org.xsm.api.SrConfig;
import org.xsm.server.db.Database;
import org.xsm.server.rpc.XenApiException;
import org.xsm.server.session.Sessions;
import org.xsm.server.storage.StorageService;

/**
 * Startup: loads the database, and on a first start creates the pool, this host and a local EXT SR
 * under the data directory, so that a user can log in and create disks at once. Every start plugs
 * the PBDs and scans the SRs, so the records match what the storage holds.
 */
@ApplicationScoped
public class Bootstrap {
  private static final Logger LOG = Logger.getLogger(Bootstrap.class);

  @Inject Database db;
  @Inject Sessions sessions;
  @Inject StorageService storage;
  @Inject org.xsm.server.vm.VmMessages vms;

  @ConfigProperty(name = "xsm.data-dir", defaultValue = "./xsm-data")
  String dataDir;

  /** {@code XSM_GC_QUIET_PERIOD_MS}: the local SR's GC quiet period (other_config). */
  @ConfigProperty(name = "xsm.gc-quiet-period-ms")
  java.util.Optional<String> gcQuietMs;

  /** {@code XSM_DEMO=1}: a demo VM with two disks on first start. */
  @ConfigProperty(name = "xsm.demo", defaultValue = "0")
  String demo;

  void onStart(@Observes StartupEvent ev) throws Exception {
    db.load();
    sessions.forgetStaleSessions();
    sessions.bootstrapRoot();
    sessions.bootstrapUsers();
    vms.haltAllAfterRestart();
    if (db.all("host").isEmpty()) {
      firstStart();
    }
    for (String pbd : db.all("PBD")) {
      try {
        storage.plug(pbd);
        storage.scan((String) db.field("PBD", pbd, "SR"));
      } catch (XenApiException e) {
        LOG.warnf("SR of PBD %s is not available: %s", pbd, e.getMessage());
      }
    }
    if (("1".equals(demo) || "true".equalsIgnoreCase(demo))
        && db.find("VM", f -> "Demo VM".equals(f.get("name_label"))).isEmpty()) {
      createDemoVm();
    }
    LOG.infof("xsm XenAPI server ready; data in %s", Path.of(dataDir).toAbsolutePath());
  }

  private void firstStart() throws IOException, XenApiException, SmException {
    Map<String, Object> host = new HashMap<>();
    String hostname = InetAddress.getLocalHost().getHostName();
    host.put("name_label", hostname);
    host.put("hostname", hostname);
    host.put("address", "127.0.0.1");
    host.put("software_version", Map.of("product_brand", "xsm", "product_version", "0.1.0"));
    String hostRef = db.create("host", host);
    Map<String, Object> pool = new HashMap<>();
    pool.put("name_label", "xsm pool");
    pool.put("master", hostRef);
    String poolRef = db.create("pool", pool);

    Path srDir = Path.of(dataDir, "sr", "local").toAbsolutePath();
    Files.createDirectories(srDir);
    String uuid = UUID.randomUUID().toString();
    Map<String, String> dc = Map.of("path", srDir.toString());
    storage.registry().driver("ext").create(new SrConfig(uuid, dc), 0);
    Map<String, Object> sr = new HashMap<>();
    sr.put("uuid", uuid);
    sr.put("name_label", "Local storage");
    sr.put("type", "ext");
    sr.put("content_type", "user");
    gcQuietMs.ifPresent(ms -> sr.put("other_config", Map.of("gc-quiet-period-ms", ms)));
    String srRef = db.create("SR", sr);
    Map<String, Object> pbd = new HashMap<>();
    pbd.put("host", hostRef);
    pbd.put("SR", srRef);
    pbd.put("device_config", dc);
    db.create("PBD", pbd);
    db.set("pool", poolRef, "default_SR", srRef);
    Map<String, Object> net = new HashMap<>();
    net.put("name_label", "Pool-wide network");
    net.put("bridge", "xenbr0");
    db.create("network", net);
    LOG.infof("First start: created pool, host %s and local SR %s in %s", hostname, uuid, srDir);
  }

  private void createDemoVm() throws XenApiException {
    String sr = (String) db.field("pool", db.all("pool").get(0), "default_SR");
    Map<String, Object> vm = new HashMap<>();
    vm.put("name_label", "Demo VM");
    vm.put("name_description", "created by XSM_DEMO=1");
    vm.put("memory_static_max", 512L * 1024 * 1024);
    vm.put("memory_dynamic_max", 512L * 1024 * 1024);
    vm.put("memory_dynamic_min", 512L * 1024 * 1024);
    vm.put("memory_static_min", 512L * 1024 * 1024);
    String vmRef = db.create("VM", vm);
    long[] sizes = {1024L * 1024 * 1024, 512L * 1024 * 1024};
    for (int i = 0; i < sizes.length; i++) {
      org.xsm.api.Sr s = storage.sr(sr);
      long size = sizes[i];
      String name = "Demo disk " + i;
      org.xsm.api.VdiInfo v =
          storage.sm(
              "vdi_create", sr, () -> s.createVdi(size, org.xsm.api.VdiMetadata.named(name)));
      String vdi = storage.introduce(sr, v);
      Map<String, Object> vbd = new HashMap<>();
      vbd.put("VM", vmRef);
      vbd.put("VDI", vdi);
      vbd.put("userdevice", Integer.toString(i));
      vbd.put("bootable", i == 0);
      db.create("VBD", vbd);
    }
    Map<String, Object> vif = new HashMap<>();
    vif.put("VM", vmRef);
    vif.put("network", db.all("network").get(0));
    vif.put("device", "0");
    vif.put("MAC", "02:00:00:00:00:01");
    db.create("VIF", vif);
    LOG.info("Created the demo VM");
  }

  /** The first host (this one). */
  public String host() {
    List<String> hosts = db.all("host");
    return hosts.isEmpty() ? null : hosts.get(0);
  }
}
