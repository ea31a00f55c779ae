package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.xsm.server.db.Database;
import org.xsm.server.domain.Domains;
import org.xsm.server.guestconsole.GuestConsoles;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Console;
import org.xsm.server.model.ConsoleProtocol;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.TristateType;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.VmGuestMetrics;
import org.xsm.server.model.XenApiException;

/**
 * What a running domain's guest agent and console backend report, for the simulated guests: each
 * running VM has a {@code VM_guest_metrics} record (OS, PV drivers, and an IPv4 address per plugged
 * VIF in {@code networks}, the {@code <device>/ip} keys clients such as Ansible wait for) and an
 * RFB console record, and a VT100 one when its domain serves a serial console ({@link
 * GuestConsoles}); all go when the domain goes. The addresses are from TEST-NET-2 (198.51.100.0/24,
 * RFC 5737): documentation addresses that nothing routes to.
 *
 * <p>Real guests (QEMU) get guest metrics only from what they say through their agent channel
 * ({@link #reportAddress}: the addresses of their NICs); nothing is made up for them.
 */
@ApplicationScoped
public class GuestAgent {
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(GuestAgent.class);

  @Inject Database db;
  @Inject GuestConsoles consoles;
  @Inject HostService hosts;
  @Inject VmDomains domains;

  /** Brings the VM's guest metrics and console in line with its power state. */
  public void refresh(Ref<Vm> vm) throws XenApiException {
    Row<Vm> r = db.read(Vm.CLASS, vm);
    PowerState s = r.get(Vm.POWER_STATE);
    boolean guest =
        !r.get(Vm.IS_CONTROL_DOMAIN) && !r.get(Vm.IS_A_SNAPSHOT) && !r.get(Vm.IS_A_TEMPLATE);
    // Real guests (QEMU) have no agent: no guest metrics are made up for them, and their consoles
    // are those their domain serves (ConsoleEndpoints). Simulated ones get an RFB record anyway.
    boolean simulated = domains.domains().kind() == Domains.Kind.SIMULATOR;
    boolean up = guest && (s == PowerState.RUNNING || s == PowerState.PAUSED);
    if (up) {
      if (simulated) {
        reportGuest(r);
      }
      if (r.get(Vm.CONSOLES).isEmpty()) {
        if (simulated || consoles.endpoint(vm, ConsoleProtocol.RFB).isPresent()) {
          openConsole(vm, ConsoleProtocol.RFB);
        }
        if (consoles.endpoint(vm, ConsoleProtocol.VT100).isPresent()) {
          openConsole(vm, ConsoleProtocol.VT100);
        }
      }
    } else if (guest) {
      Ref<VmGuestMetrics> g = r.get(Vm.GUEST_METRICS);
      if (!g.isNull()) {
        db.set(vm, Vm.GUEST_METRICS, Ref.nullRef());
        if (db.exists(VmGuestMetrics.CLASS, g)) {
          db.destroy(VmGuestMetrics.CLASS, g);
        }
      }
      for (Ref<Console> c : r.get(Vm.CONSOLES)) {
        db.destroy(Console.CLASS, c);
      }
    }
  }

  private void reportGuest(Row<Vm> r) throws XenApiException {
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    Values<VmGuestMetrics> v =
        Values.of(VmGuestMetrics.CLASS)
            .with(
                VmGuestMetrics.OS_VERSION,
                Map.of(
                    "name", "xsm simulated guest",
                    "distro", "xsm",
                    "major", "1",
                    "minor", "0",
                    "uname", "simulated"))
            .with(
                VmGuestMetrics.PV_DRIVERS_VERSION,
                Map.of("major", "9", "minor", "0", "micro", "0", "build", "0"))
            .with(VmGuestMetrics.PV_DRIVERS_UP_TO_DATE, true)
            .with(VmGuestMetrics.PV_DRIVERS_DETECTED, true)
            .with(VmGuestMetrics.LIVE, true)
            .with(VmGuestMetrics.CAN_USE_HOTPLUG_VBD, TristateType.YES)
            .with(VmGuestMetrics.CAN_USE_HOTPLUG_VIF, TristateType.YES)
            .with(
                VmGuestMetrics.MEMORY,
                Map.of("total", Long.toString(r.get(Vm.MEMORY_DYNAMIC_MAX) / 1024)))
            .with(VmGuestMetrics.NETWORKS, networks(r))
            .with(VmGuestMetrics.LAST_UPDATED, now);
    Ref<VmGuestMetrics> g = r.get(Vm.GUEST_METRICS);
    if (db.exists(VmGuestMetrics.CLASS, g)) {
      db.update(VmGuestMetrics.CLASS, g, v);
    } else {
      db.set(r.ref(), Vm.GUEST_METRICS, db.create(VmGuestMetrics.CLASS, v));
    }
  }

  /**
   * The guest's addresses: {@code <device>/ip} and {@code <device>/ipv4/0} for each plugged VIF,
   * the last octet from the domain id and the device, so they differ between running VMs.
   */
  private Map<String, String> networks(Row<Vm> r) throws XenApiException {
    Map<String, String> out = new TreeMap<>();
    long domid = Math.max(0, r.get(Vm.DOMID));
    for (Ref<Vif> vif : r.get(Vm.VIFS)) {
      Row<Vif> f = db.readOrNull(Vif.CLASS, vif);
      if (f == null || !f.get(Vif.CURRENTLY_ATTACHED)) {
        continue;
      }
      String dev = f.get(Vif.DEVICE);
      int n;
      try {
        n = Integer.parseInt(dev);
      } catch (NumberFormatException e) {
        continue; // no address for a device without a number
      }
      String ip = "198.51.100." + (1 + (domid * 8 + n) % 254);
      out.put(dev + "/ip", ip);
      out.put(dev + "/ipv4/0", ip);
    }
    return out;
  }

  /**
   * A real guest said (through its agent channel) that its NIC with {@code mac} has {@code ipv4}:
   * the VIF with that MAC gets {@code <device>/ip} and {@code <device>/ipv4/0} in the VM's guest
   * metrics (made on the first report, with only what the guest said). An address for a MAC that is
   * no VIF of the VM, or from a VM not running, is dropped.
   */
  public void reportAddress(Ref<Vm> vm, String mac, String ipv4) throws XenApiException {
    Row<Vm> r = db.read(Vm.CLASS, vm);
    PowerState s = r.get(Vm.POWER_STATE);
    if (s != PowerState.RUNNING && s != PowerState.PAUSED) {
      return;
    }
    String device = null;
    for (Ref<Vif> vif : r.get(Vm.VIFS)) {
      Row<Vif> f = db.readOrNull(Vif.CLASS, vif);
      if (f != null && f.get(Vif.MAC).equalsIgnoreCase(mac)) {
        device = f.get(Vif.DEVICE);
      }
    }
    if (device == null) {
      LOG.debugf("VM %s: its guest reported %s on %s, which is none of its VIFs", vm, ipv4, mac);
      return;
    }
    Ref<VmGuestMetrics> g = r.get(Vm.GUEST_METRICS);
    Map<String, String> networks =
        db.exists(VmGuestMetrics.CLASS, g)
            ? new TreeMap<>(db.get(g, VmGuestMetrics.NETWORKS))
            : new TreeMap<>();
    networks.put(device + "/ip", ipv4);
    networks.put(device + "/ipv4/0", ipv4);
    Values<VmGuestMetrics> v =
        Values.of(VmGuestMetrics.CLASS)
            .with(VmGuestMetrics.NETWORKS, networks)
            .with(VmGuestMetrics.LIVE, true)
            .with(VmGuestMetrics.LAST_UPDATED, Instant.now().truncatedTo(ChronoUnit.SECONDS));
    if (db.exists(VmGuestMetrics.CLASS, g)) {
      db.update(VmGuestMetrics.CLASS, g, v);
    } else {
      db.set(vm, Vm.GUEST_METRICS, db.create(VmGuestMetrics.CLASS, v));
    }
  }

  /** Updates the addresses of a running simulated VM after a VIF was plugged or unplugged. */
  public void networksChanged(Ref<Vm> vm) throws XenApiException {
    if (domains.domains().kind() != Domains.Kind.SIMULATOR) {
      return; // a real guest's addresses are what it reports
    }
    Row<Vm> r = db.read(Vm.CLASS, vm);
    Ref<VmGuestMetrics> g = r.get(Vm.GUEST_METRICS);
    if (db.exists(VmGuestMetrics.CLASS, g)) {
      db.set(g, VmGuestMetrics.NETWORKS, networks(r));
    }
  }

  private void openConsole(Ref<Vm> vm, ConsoleProtocol protocol) throws XenApiException {
    Ref<Console> c =
        db.create(
            Console.CLASS,
            Values.of(Console.CLASS)
                .with(Console.VM, vm)
                .with(Console.PROTOCOL, protocol)
                .with(Console.OTHER_CONFIG, new LinkedHashMap<>()));
    // Where xapi serves the console of a domain (guestconsole/ConsoleProxyRoutes).
    db.set(c, Console.LOCATION, consoles.location(c));
  }
}
