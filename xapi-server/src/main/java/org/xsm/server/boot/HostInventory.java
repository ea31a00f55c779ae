package org.xsm.server.boot;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.xsm.api.Capability;
import org.xsm.api.ConfigKey;
import org.xsm.api.DriverInfo;
import org.xsm.api.SmException;
import org.xsm.plugins.registry.PluginRegistry;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Host;
import org.xsm.server.model.HostMetrics;
import org.xsm.server.model.IpConfigurationMode;
import org.xsm.server.model.Network;
import org.xsm.server.model.Pif;
import org.xsm.server.model.Pool;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sm;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;
import org.xsm.server.vm.VmRecords;

/**
 * What this host is, refreshed at every start (xapi's dbsync): the host record's facts (CPUs,
 * memory, versions, capabilities, license), its {@code host_metrics}, a PIF for its management
 * interface on the pool network, its control domain (dom0), and one {@code SM} record per installed
 * storage driver, built from the driver's {@link DriverInfo}. xapi's values stand where xsm has
 * nothing of its own to say (a free license, no IOMMU).
 */
@ApplicationScoped
public class HostInventory {
  private static final Logger LOG = Logger.getLogger(HostInventory.class);

  @Inject Database db;

  /**
   * {@code XSM_HOST_ADDRESS}: the address other hosts and clients reach this host at (its host
   * record's and management PIF's); 127.0.0.1 when not set.
   */
  @org.eclipse.microprofile.config.inject.ConfigProperty(name = "xsm.host.address")
  java.util.Optional<String> address;

  @Inject HostService hosts;
  @Inject VmRecords vmRecords;

  /** Brings the host's records up to date with the machine and the installed drivers. */
  public void refresh(PluginRegistry registry) throws XenApiException {
    Ref<Host> host = hosts.host();
    if (host.isNull()) {
      return;
    }
    Ref<HostMetrics> metrics = db.get(host, Host.METRICS);
    if (!db.exists(HostMetrics.CLASS, metrics)) {
      metrics = db.create(HostMetrics.CLASS, Values.of(HostMetrics.CLASS));
    }
    address.filter(a -> !a.isBlank()).ifPresent(a -> readdress(host, a));
    long total = totalMemory();
    db.update(
        HostMetrics.CLASS,
        metrics,
        Values.of(HostMetrics.CLASS)
            .with(HostMetrics.MEMORY_TOTAL, total)
            .with(HostMetrics.MEMORY_FREE, freeMemory(total))
            .with(HostMetrics.LIVE, true)
            .with(HostMetrics.LAST_UPDATED, now()));
    int cpus = Runtime.getRuntime().availableProcessors();
    db.update(
        Host.CLASS,
        host,
        Values.of(Host.CLASS)
            .with(Host.METRICS, metrics)
            .with(Host.CPU_INFO, cpuInfo(cpus))
            .with(Host.CPU_CONFIGURATION, Map.of())
            .with(Host.CHIPSET_INFO, Map.of("iommu", "false"))
            .with(Host.CAPABILITIES, List.of("hvm-3.0-x86_64", "hvm-3.0-x86_32", "hvm-3.0-x86_32p"))
            .with(Host.LICENSE_PARAMS, licenseParams())
            .with(Host.LICENSE_SERVER, Map.of("address", "localhost", "port", "27000"))
            .with(Host.EDITION, "xcp-ng")
            .with(Host.SCHED_POLICY, "credit")
            .with(Host.BIOS_STRINGS, Map.of("bios-vendor", "xsm", "system-manufacturer", "xsm"))
            .with(Host.SOFTWARE_VERSION, softwareVersion())
            .with(Host.MEMORY_OVERHEAD, 0L)
            .with(Host.CONTROL_DOMAIN, controlDomain(host))
            .with(Host.ENABLED, true)
            .with(Host.EXTERNAL_AUTH_TYPE, "")
            .with(Host.POWER_ON_MODE, "")
            .with(Host.DISPLAY, org.xsm.server.model.HostDisplay.ENABLED)
            .with(Host.VIRTUAL_HARDWARE_PLATFORM_VERSIONS, List.of("0", "1", "2")));
    managementPif(host);
    Ref<Pool> pool = hosts.pool();
    if (!pool.isNull()) {
      db.update(
          Pool.CLASS,
          pool,
          Values.of(Pool.CLASS)
              .with(Pool.RESTRICTIONS, restrictions())
              .with(Pool.CPU_INFO, cpuInfo(cpus)));
    }
    smRecords(registry);
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS);
  }

  private static long totalMemory() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getTotalMemorySize();
    }
    return Runtime.getRuntime().maxMemory();
  }

  private static long freeMemory(long total) {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getFreeMemorySize();
    }
    return total / 2;
  }

  /** host.cpu_info as xapi fills it, from /proc/cpuinfo where it is readable. */
  static Map<String, String> cpuInfo(int cpus) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("cpu_count", Integer.toString(cpus));
    m.put("socket_count", "1");
    m.put("vendor", "");
    m.put("speed", "0");
    m.put("modelname", "");
    m.put("family", "0");
    m.put("model", "0");
    m.put("stepping", "0");
    m.put("flags", "");
    m.put("features", "");
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        int colon = line.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String k = line.substring(0, colon).trim();
        String v = line.substring(colon + 1).trim();
        switch (k) {
          case "vendor_id" -> m.put("vendor", v);
          case "cpu MHz" -> m.put("speed", v);
          case "model name" -> m.put("modelname", v);
          case "cpu family" -> m.put("family", v);
          case "model" -> m.put("model", v);
          case "stepping" -> m.put("stepping", v);
          case "flags" -> m.put("flags", v);
          default -> {}
        }
        if (k.isEmpty()) {
          break; // the first processor is enough
        }
      }
    } catch (java.io.IOException e) {
      LOG.debugf("no /proc/cpuinfo (%s): CPU details stay empty", e.getMessage());
    }
    return m;
  }

  private static Map<String, String> licenseParams() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("expiry", "30000101T00:00:00Z");
    m.put("sku_type", "free");
    m.put("sku_marketing_name", "xsm");
    m.put("restrict_vswitch_controller", "false");
    m.put("restrict_lab", "false");
    m.put("restrict_stage", "false");
    m.put("restrict_storage_xen_motion", "false");
    m.put("restrict_vlan", "false");
    m.put("restrict_pooling", "false");
    m.put("enable_xha", "true");
    m.put("restrict_marathon", "false");
    m.put("restrict_email_alerting", "false");
    m.put("restrict_historical_performance", "false");
    m.put("restrict_wlb", "true");
    m.put("restrict_rbac", "false");
    m.put("restrict_dmc", "false");
    m.put("restrict_checkpoint", "false");
    m.put("restrict_cpu_masking", "false");
    m.put("restrict_connection", "false");
    m.put("platform_filter", "false");
    m.put("regular_nag_dialog", "false");
    m.put("restrict_vmpr", "false");
    m.put("restrict_vmss", "false");
    m.put("restrict_intellicache", "false");
    m.put("restrict_gpu", "false");
    m.put("restrict_dr", "false");
    m.put("restrict_vif_locking", "false");
    m.put("restrict_storage_migration", "false");
    m.put("restrict_cbt", "false");
    m.put("restrict_read_caching", "false");
    m.put("restrict_health_check", "false");
    m.put("restrict_xcm", "false");
    return m;
  }

  private static Map<String, String> restrictions() {
    Map<String, String> m = new LinkedHashMap<>(licenseParams());
    m.remove("expiry");
    m.remove("sku_type");
    m.remove("sku_marketing_name");
    return m;
  }

  private static Map<String, String> softwareVersion() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("product_brand", "xsm");
    m.put("product_version", "0.1.0");
    m.put("product_version_text", "0.1");
    m.put("product_version_text_short", "0.1");
    m.put("platform_name", "XCP");
    m.put("platform_version", "3.4.0");
    m.put("xapi", "21.0");
    m.put("xen", "4.17.0");
    m.put("hostname", hostname());
    m.put("date", "2026-12-07");
    m.put("build_number", "xsm");
    m.put("linux", System.getProperty("os.version", ""));
    m.put("dbv", "2026.1207");
    return m;
  }

  private static String hostname() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "localhost";
    }
  }

  /** The control domain (dom0): a running VM record xapi has on every host. */
  private Ref<Vm> controlDomain(Ref<Host> host) throws XenApiException {
    List<Ref<Vm>> dom0 = db.fullScan(Vm.CLASS, r -> r.get(Vm.IS_CONTROL_DOMAIN));
    if (!dom0.isEmpty()) {
      return dom0.get(0);
    }
    long mem = 1L << 30;
    return vmRecords.create(
        Values.of(Vm.CLASS)
            .with(Vm.NAME_LABEL, "Control domain on host: " + db.get(host, Host.NAME_LABEL))
            .with(Vm.NAME_DESCRIPTION, "The domain which manages physical devices and virtual ones")
            .with(Vm.IS_CONTROL_DOMAIN, true)
            .with(Vm.POWER_STATE, PowerState.RUNNING)
            .with(Vm.DOMID, 0L)
            .with(Vm.RESIDENT_ON, host)
            .with(Vm.MEMORY_STATIC_MAX, mem)
            .with(Vm.MEMORY_DYNAMIC_MAX, mem)
            .with(Vm.MEMORY_DYNAMIC_MIN, mem)
            .with(Vm.MEMORY_STATIC_MIN, mem)
            .with(Vm.MEMORY_TARGET, mem)
            .with(Vm.DOMAIN_TYPE, org.xsm.server.model.DomainType.PV));
  }

  private void readdress(Ref<Host> host, String a) {
    try {
      if (!a.equals(db.get(host, Host.ADDRESS))) {
        db.set(host, Host.ADDRESS, a);
        for (Ref<Pif> pif : db.get(host, Host.PIFS)) {
          if (db.get(pif, Pif.MANAGEMENT)) {
            db.set(pif, Pif.IP, a);
          }
        }
      }
    } catch (XenApiException e) {
      throw new IllegalStateException("cannot record this host's address " + a, e);
    }
  }

  /**
   * The management interface: one PIF on the pool network, addressed like the host (also made by
   * the master for a host joining the pool).
   */
  public void managementPif(Ref<Host> host) throws XenApiException {
    Ref<Network> net = db.first(Network.CLASS);
    if (net.isNull() || !db.get(host, Host.PIFS).isEmpty()) {
      return;
    }
    String address = db.get(host, Host.ADDRESS);
    db.create(
        Pif.CLASS,
        Values.of(Pif.CLASS)
            .with(Pif.DEVICE, "eth0")
            .with(Pif.NETWORK, net)
            .with(Pif.HOST, host)
            .with(Pif.MAC, "02:00:00:00:00:00")
            .with(Pif.MTU, 1500L)
            .with(Pif.VLAN, -1L)
            .with(Pif.PHYSICAL, true)
            .with(Pif.CURRENTLY_ATTACHED, true)
            .with(Pif.MANAGEMENT, true)
            .with(Pif.IP_CONFIGURATION_MODE, IpConfigurationMode.STATIC)
            .with(Pif.IP, address)
            .with(Pif.NETMASK, "255.0.0.0")
            .with(Pif.DNS, "")
            .with(Pif.GATEWAY, ""));
    db.update(Host.CLASS, host, Values.of(Host.CLASS).with(Host.ADDRESS, address));
  }

  /** One SM record per installed driver; drivers no longer installed lose theirs. */
  private void smRecords(PluginRegistry registry) throws XenApiException {
    List<String> types = new ArrayList<>(registry.types());
    for (Ref<Sm> sm : db.all(Sm.CLASS)) {
      if (!types.contains(db.get(sm, Sm.TYPE))) {
        db.destroy(Sm.CLASS, sm);
      }
    }
    for (String type : types) {
      DriverInfo info;
      try {
        info = registry.driver(type).info();
      } catch (SmException e) {
        LOG.warnf(e, "driver %s has no description: no SM record", type);
        continue;
      }
      Values<Sm> v = smValues(info);
      List<Ref<Sm>> existing = db.fullScan(Sm.CLASS, r -> r.get(Sm.TYPE).equals(type));
      if (existing.isEmpty()) {
        db.create(Sm.CLASS, v);
      } else {
        db.update(Sm.CLASS, existing.get(0), v);
      }
    }
  }

  static Values<Sm> smValues(DriverInfo info) {
    Map<String, String> config = new LinkedHashMap<>();
    for (ConfigKey k : info.configuration()) {
      config.put(k.name(), k.description());
    }
    List<String> caps = new ArrayList<>();
    Map<String, String> features = new LinkedHashMap<>();
    for (Capability c : info.capabilities()) {
      caps.add(c.name());
      features.put(c.name(), "1");
    }
    caps.sort(null);
    return Values.of(Sm.CLASS)
        .with(Sm.NAME_LABEL, info.name())
        .with(Sm.NAME_DESCRIPTION, info.description())
        .with(Sm.TYPE, info.type())
        .with(Sm.VENDOR, info.vendor())
        .with(Sm.COPYRIGHT, info.copyright())
        .with(Sm.VERSION, info.driverVersion())
        .with(Sm.REQUIRED_API_VERSION, info.requiredApiVersion())
        .with(Sm.CONFIGURATION, config)
        .with(Sm.CAPABILITIES, caps)
        .with(Sm.FEATURES, new java.util.TreeMap<>(features))
        .with(Sm.DRIVER_FILENAME, "xsm:" + info.type())
        .with(Sm.REQUIRED_CLUSTER_STACK, List.of());
  }
}
