package org.xsm.server.host;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.HostDisplay;
import org.xsm.server.model.HostMetrics;
import org.xsm.server.model.Network;
import org.xsm.server.model.Pif;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * What a host's own messages change (editions, enabled state, display, hostname, management
 * interface) and what they compute (free memory, evacuation), with xapi's checks and errors.
 */
@ApplicationScoped
public class HostFeatures {
  /** The editions this host offers (xapi's {@code v6d} list for XCP-ng). */
  public static final List<String> EDITIONS = List.of("xcp-ng", "free");

  private static final Pattern HOSTNAME =
      Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");

  @Inject Database db;

  public void applyEdition(Ref<Host> host, String edition) throws XenApiException {
    db.read(Host.CLASS, host);
    if (!EDITIONS.contains(edition)) {
      throw new XenApiException(XenApiError.INVALID_EDITION, edition);
    }
    db.set(host, Host.EDITION, edition);
  }

  public void setSslLegacy(Ref<?> pool, boolean on) throws XenApiException {
    db.read(org.xsm.server.model.Pool.CLASS, Ref.of(pool.value()));
    for (Ref<Host> h : db.all(Host.CLASS)) {
      db.set(h, Host.SSL_LEGACY, on);
    }
  }

  /** host.enable / host.disable: a disabled host starts no new VMs. */
  public void setEnabled(Ref<Host> host, boolean on) throws XenApiException {
    db.read(Host.CLASS, host);
    db.set(host, Host.ENABLED, on);
  }

  /** host.enable_display / disable_display: takes effect at the next reboot, as in xapi. */
  public HostDisplay setDisplay(Ref<Host> host, boolean on) throws XenApiException {
    HostDisplay now = db.get(host, Host.DISPLAY);
    HostDisplay next;
    if (on) {
      next =
          now == HostDisplay.ENABLED || now == HostDisplay.ENABLE_ON_REBOOT
              ? now
              : now == HostDisplay.DISABLE_ON_REBOOT
                  ? HostDisplay.ENABLED
                  : HostDisplay.ENABLE_ON_REBOOT;
    } else {
      next =
          now == HostDisplay.DISABLED || now == HostDisplay.DISABLE_ON_REBOOT
              ? now
              : now == HostDisplay.ENABLE_ON_REBOOT
                  ? HostDisplay.DISABLED
                  : HostDisplay.DISABLE_ON_REBOOT;
    }
    db.set(host, Host.DISPLAY, next);
    return next;
  }

  public void setHostnameLive(Ref<Host> host, String name) throws XenApiException {
    db.read(Host.CLASS, host);
    if (name == null || !HOSTNAME.matcher(name).matches()) {
      throw new XenApiException(
          XenApiError.HOST_NAME_INVALID, "hostname contains invalid characters");
    }
    db.set(host, Host.HOSTNAME, name);
  }

  /** The host's regular resident VMs (the control domain is not one). */
  public List<Ref<Vm>> residentGuests(Ref<Host> host) throws XenApiException {
    List<Ref<Vm>> out = new ArrayList<>();
    for (Ref<Vm> vm : db.get(host, Host.RESIDENT_VMS)) {
      Row<Vm> r = db.readOrNull(Vm.CLASS, vm);
      if (r != null && !r.get(Vm.IS_CONTROL_DOMAIN)) {
        out.add(vm);
      }
    }
    return out;
  }

  /**
   * host.get_vms_which_prevent_evacuation: in a pool of one host no running VM has anywhere to go,
   * so each one prevents it, with xapi's NO_HOSTS_AVAILABLE.
   */
  public Map<String, List<String>> vmsPreventingEvacuation(Ref<Host> host) throws XenApiException {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (Ref<Vm> vm : residentGuests(host)) {
      out.put(vm.value(), List.of(XenApiError.NO_HOSTS_AVAILABLE.name(), vm.value()));
    }
    return out;
  }

  public void assertCanEvacuate(Ref<Host> host) throws XenApiException {
    if (!residentGuests(host).isEmpty()) {
      throw new XenApiException(XenApiError.NO_HOSTS_AVAILABLE);
    }
  }

  /** host.compute_free_memory: the host's free memory less what halted-but-booting VMs claim. */
  public long freeMemory(Ref<Host> host) throws XenApiException {
    Ref<HostMetrics> m = db.get(host, Host.METRICS);
    if (!db.exists(HostMetrics.CLASS, m)) {
      return 0;
    }
    long free = db.get(m, HostMetrics.MEMORY_FREE);
    for (Ref<Vm> vm : residentGuests(host)) {
      Row<Vm> r = db.read(Vm.CLASS, vm);
      if (r.get(Vm.POWER_STATE) != PowerState.HALTED) {
        free -= r.get(Vm.MEMORY_DYNAMIC_MAX); // simulated guests use no real memory
      }
    }
    return Math.max(0, free);
  }

  /** The host's management PIF, or the null reference. */
  public Ref<Pif> managementPif(Ref<Host> host) throws XenApiException {
    for (Ref<Pif> p : db.get(host, Host.PIFS)) {
      if (db.get(p, Pif.MANAGEMENT)) {
        return p;
      }
    }
    return Ref.nullRef();
  }

  /** Moves the management interface to {@code pif} (host.management_reconfigure). */
  public void managementReconfigure(Ref<Pif> pif) throws XenApiException {
    Row<Pif> p = db.read(Pif.CLASS, pif);
    Ref<Host> host = p.get(Pif.HOST);
    for (Ref<Pif> other : db.get(host, Host.PIFS)) {
      if (!other.equals(pif) && db.get(other, Pif.MANAGEMENT)) {
        db.set(other, Pif.MANAGEMENT, false);
      }
    }
    db.update(
        Pif.CLASS,
        pif,
        Values.of(Pif.CLASS).with(Pif.MANAGEMENT, true).with(Pif.CURRENTLY_ATTACHED, true));
  }

  /**
   * pool.management_reconfigure: every host's PIF on {@code network} becomes its management one.
   */
  public void managementReconfigureNetwork(Ref<Network> network) throws XenApiException {
    List<Ref<Pif>> pifs = db.get(network, Network.PIFS);
    if (pifs.isEmpty()) {
      throw new XenApiException(XenApiError.PIF_DEVICE_NOT_FOUND);
    }
    for (Ref<Pif> p : pifs) {
      managementReconfigure(p);
    }
  }

  /** host.management_disable: no interface is the management one any more. */
  public void managementDisable(Ref<Host> host) throws XenApiException {
    for (Ref<Pif> p : db.get(host, Host.PIFS)) {
      db.set(p, Pif.MANAGEMENT, false);
    }
  }
}
