package org.xsm.server.boot;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.xsm.api.SmException;
import org.xsm.api.SrConfig;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.Network;
import org.xsm.server.model.Pbd;
import org.xsm.server.model.Pool;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;
import org.xsm.server.session.LocalUsers;
import org.xsm.server.session.Sessions;
import org.xsm.server.sr.SrService;
import org.xsm.server.vdi.VdiService;

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
  @Inject LocalUsers localUsers;
  @Inject SrService storage;
  @Inject org.xsm.server.vm.VmRecovery recovery;
  @Inject VdiService vdis;
  @Inject org.xsm.server.host.HostService hosts;
  @Inject HostInventory inventory;
  @Inject org.xsm.server.vm.VmRecords vmRecords;
  @Inject org.xsm.server.vm.Templates templates;
  @Inject org.xsm.server.vm.DomainLifecycle lifecycle;
  @Inject org.xsm.server.runtime.HostIdentity identity;

  @ConfigProperty(name = "xsm.data-dir", defaultValue = "./xsm-data")
  String dataDir;

  /** {@code XSM_GC_QUIET_PERIOD_MS}: the local SR's GC quiet period (other_config). */
  @ConfigProperty(name = "xsm.gc-quiet-period-ms")
  java.util.Optional<String> gcQuietMs;

  /** {@code XSM_DEMO=1}: a demo VM with two disks on first start. */
  @ConfigProperty(name = "xsm.demo", defaultValue = "0")
  String demo;

  /**
   * A master's start: the records loaded from the database, then {@link #runAsMaster}. Called at
   * startup by the pool's start-up (a member loads nothing: its records are the master's).
   */
  public void start() throws Exception {
    long t0 = System.nanoTime();
    db.load();
    runAsMaster(t0);
  }

  /**
   * What a master does with loaded records: the first start's records if there are none, this
   * host's domains adopted (the others of this host halted), this host's PBDs plugged and their SRs
   * scanned, the host's inventory refreshed. Also run when a pool member becomes the master, after
   * it loaded the pool's records.
   */
  public void runAsMaster(long t0) throws Exception {
    long loaded = System.nanoTime();
    // What start-up changes is written in one transaction, as a call's changes are.
    db.beginCall();
    try {
      sessions.forgetStaleSessions();
      localUsers.bootstrapRoot();
      localUsers.bootstrapUsers();
      if (db.all(Host.CLASS).isEmpty()) {
        firstStart();
      } else if (identity.uuid().isEmpty() && db.all(Host.CLASS).size() == 1) {
        identity.set(db.get(db.first(Host.CLASS), Host.UUID)); // a lone host's, recorded once
      }
      java.util.Set<String> adopted = lifecycle.adopt();
      recovery.haltAllAfterRestart(adopted, hosts.host());
      for (Ref<Pbd> pbd : db.where(Pbd.HOST, hosts.host())) {
        try {
          storage.plug(pbd);
          storage.scan(db.get(pbd, Pbd.SR));
        } catch (XenApiException e) {
          LOG.warnf("SR of PBD %s is not available: %s", pbd, e.getMessage());
        }
      }
      lifecycle.reattach(adopted);
      vmRecords.ensureMetrics();
      inventory.refresh(storage.registry());
      templates.ensureStockTemplates();
      if (("1".equals(demo) || "true".equalsIgnoreCase(demo))
          && db.where(Vm.NAME_LABEL, "Demo VM").isEmpty()) {
        createDemoVm();
      }
    } finally {
      db.endCall();
    }
    LOG.infof(
        "xsm XenAPI server ready; data in %s (database loaded in %d ms, SRs plugged and scanned in"
            + " %d ms)",
        Path.of(dataDir).toAbsolutePath(),
        (loaded - t0) / 1_000_000,
        (System.nanoTime() - loaded) / 1_000_000);
  }

  private void firstStart() throws IOException, XenApiException, SmException {
    String hostname = InetAddress.getLocalHost().getHostName();
    Ref<Host> hostRef =
        db.create(
            Host.CLASS,
            Values.of(Host.CLASS)
                .with(Host.NAME_LABEL, hostname)
                .with(Host.HOSTNAME, hostname)
                .with(Host.ADDRESS, "127.0.0.1")
                .with(
                    Host.SOFTWARE_VERSION,
                    Map.of("product_brand", "xsm", "product_version", "0.1.0")));
    identity.set(db.get(hostRef, Host.UUID));
    Ref<Pool> poolRef =
        db.create(
            Pool.CLASS,
            Values.of(Pool.CLASS).with(Pool.NAME_LABEL, "xsm pool").with(Pool.MASTER, hostRef));

    Path srDir = Path.of(dataDir, "sr", "local").toAbsolutePath();
    Files.createDirectories(srDir);
    String uuid = UUID.randomUUID().toString();
    Map<String, String> dc = Map.of("path", srDir.toString());
    storage.registry().driver("ext").create(new SrConfig(uuid, dc), 0);
    Values<Sr> sr =
        Values.of(Sr.CLASS)
            .with(Sr.UUID, uuid)
            .with(Sr.NAME_LABEL, "Local storage")
            .with(Sr.TYPE, "ext")
            .with(Sr.CONTENT_TYPE, "user");
    gcQuietMs.ifPresent(ms -> sr.with(Sr.OTHER_CONFIG, Map.of("gc-quiet-period-ms", ms)));
    Ref<Sr> srRef = db.create(Sr.CLASS, sr);
    db.create(
        Pbd.CLASS,
        Values.of(Pbd.CLASS)
            .with(Pbd.HOST, hostRef)
            .with(Pbd.SR, srRef)
            .with(Pbd.DEVICE_CONFIG, dc));
    db.set(poolRef, Pool.DEFAULT_SR, srRef);
    db.create(
        Network.CLASS,
        Values.of(Network.CLASS)
            .with(Network.NAME_LABEL, "Pool-wide network")
            .with(Network.BRIDGE, "xenbr0"));
    LOG.infof("First start: created pool, host %s and local SR %s in %s", hostname, uuid, srDir);
  }

  private void createDemoVm() throws XenApiException {
    Ref<Sr> sr = hosts.defaultSr();
    long mem = 512L * 1024 * 1024;
    Ref<Vm> vm =
        vmRecords.create(
            Values.of(Vm.CLASS)
                .with(Vm.NAME_LABEL, "Demo VM")
                .with(Vm.NAME_DESCRIPTION, "created by XSM_DEMO=1")
                .with(Vm.MEMORY_STATIC_MAX, mem)
                .with(Vm.MEMORY_DYNAMIC_MAX, mem)
                .with(Vm.MEMORY_DYNAMIC_MIN, mem)
                .with(Vm.MEMORY_STATIC_MIN, mem));
    long[] sizes = {1024L * 1024 * 1024, 512L * 1024 * 1024};
    for (int i = 0; i < sizes.length; i++) {
      Ref<Vdi> vdi =
          vdis.create(
              new VdiService.VdiSpec(
                  sr,
                  sizes[i],
                  "Demo disk " + i,
                  "",
                  VdiType.USER,
                  false,
                  Map.of(),
                  Map.of(),
                  null));
      db.create(
          Vbd.CLASS,
          Values.of(Vbd.CLASS)
              .with(Vbd.VM, vm)
              .with(Vbd.VDI, vdi)
              .with(Vbd.USERDEVICE, Integer.toString(i))
              .with(Vbd.BOOTABLE, i == 0));
    }
    db.create(
        Vif.CLASS,
        Values.of(Vif.CLASS)
            .with(Vif.VM, vm)
            .with(Vif.NETWORK, db.first(Network.CLASS))
            .with(Vif.DEVICE, "0")
            .with(Vif.MAC, "02:00:00:00:00:01"));
    LOG.info("Created the demo VM");
  }
}
