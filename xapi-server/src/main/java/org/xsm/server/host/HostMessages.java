package org.xsm.server.host;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/**
 * The host's own messages as xapi answers them on the master of a pool of one: real where xsm has
 * the thing (enable/disable, display, hostname, management interface, memory, evacuation checks,
 * editions, plugins and extensions — none installed), and xapi's errors where it has not (HA,
 * external authentication, local caching, WLB, CPU feature masks).
 */
@ApplicationScoped
public class HostMessages implements RpcModule {
  private static final Logger LOG = Logger.getLogger(HostMessages.class);

  @Inject Database db;
  @Inject HostService hosts;
  @Inject HostFeatures features;
  @Inject Dispatcher dispatcher;

  private Ref<Host> host(List<Object> a) throws XenApiException {
    Ref<Host> h = Params.ref(a, 0);
    db.read(Host.CLASS, h);
    return h;
  }

  @Override
  public void register(Dispatcher d) {
    d.register(
        "host.apply_edition",
        -1, // (host, edition) or (host, edition, force)
        true,
        true,
        (c, a) -> {
          if (a.size() < 2 || a.size() > 3) {
            throw new XenApiException(
                XenApiError.MESSAGE_PARAMETER_COUNT_MISMATCH,
                "host.apply_edition",
                "3",
                Integer.toString(a.size()));
          }
          return none(() -> features.applyEdition(host(a), Params.str(a, 1)));
        });
    d.register(
        "host.license_apply",
        3,
        true,
        true,
        (c, a) -> {
          host(a);
          throw new XenApiException(XenApiError.LICENSE_PROCESSING_ERROR);
        });
    d.register(
        "host.license_add",
        3,
        true,
        true,
        (c, a) -> {
          host(a);
          throw new XenApiException(XenApiError.LICENSE_PROCESSING_ERROR);
        });
    d.register("host.license_remove", 2, true, true, (c, a) -> none(() -> host(a)));
    d.register(
        "host.enable", 2, true, true, (c, a) -> none(() -> features.setEnabled(host(a), true)));
    d.register(
        "host.disable", 2, true, true, (c, a) -> none(() -> features.setEnabled(host(a), false)));
    d.register(
        "host.enable_display", 2, true, true, (c, a) -> features.setDisplay(host(a), true).wire());
    d.register(
        "host.disable_display",
        2,
        true,
        true,
        (c, a) -> features.setDisplay(host(a), false).wire());
    d.register(
        "host.set_hostname_live",
        3,
        true,
        true,
        (c, a) -> none(() -> features.setHostnameLive(host(a), Params.str(a, 1))));
    d.register("host.compute_free_memory", 2, true, false, (c, a) -> features.freeMemory(host(a)));
    d.register(
        "host.compute_memory_overhead",
        2,
        true,
        false,
        (c, a) -> db.get(host(a), Host.MEMORY_OVERHEAD));
    d.register(
        "host.get_uncooperative_resident_VMs",
        2,
        true,
        false,
        (c, a) -> {
          host(a);
          return List.of(); // simulated guests always cooperate
        });
    d.register(
        "host.get_vms_which_prevent_evacuation",
        2,
        true,
        false,
        (c, a) -> features.vmsPreventingEvacuation(host(a)));
    d.register(
        "host.assert_can_evacuate",
        2,
        true,
        false,
        (c, a) -> none(() -> features.assertCanEvacuate(host(a))));
    d.register(
        "host.evacuate", 2, true, true, (c, a) -> none(() -> features.assertCanEvacuate(host(a))));
    d.register(
        "host.get_management_interface",
        2,
        true,
        false,
        (c, a) -> features.managementPif(host(a)).value());
    d.register(
        "host.management_reconfigure",
        2,
        true,
        true,
        (c, a) -> none(() -> features.managementReconfigure(Params.ref(a, 0))));
    d.register(
        "host.local_management_reconfigure",
        1,
        true,
        true,
        (c, a) -> {
          String device = Params.str(a, 0);
          for (var p : db.get(hosts.host(), Host.PIFS)) {
            if (db.get(p, org.xsm.server.model.Pif.DEVICE).equals(device)) {
              features.managementReconfigure(p);
              return "";
            }
          }
          throw new XenApiException(XenApiError.PIF_DEVICE_NOT_FOUND);
        });
    d.register(
        "host.management_disable",
        0,
        false,
        true,
        (c, a) -> none(() -> features.managementDisable(hosts.host())));
    // Plugins and extensions: none is installed.
    d.register(
        "host.call_plugin",
        5,
        true,
        true,
        (c, a) -> {
          host(a);
          throw new XenApiException(XenApiError.XENAPI_MISSING_PLUGIN, Params.str(a, 1));
        });
    d.register(
        "host.has_extension",
        3,
        true,
        false,
        (c, a) -> {
          host(a);
          return false;
        });
    d.register(
        "host.call_extension",
        3,
        true,
        true,
        (c, a) -> {
          host(a);
          throw new XenApiException(XenApiError.MESSAGE_METHOD_UNKNOWN, Params.str(a, 1));
        });
    d.register("host.list_methods", 1, true, false, (c, a) -> dispatcher.listMethods());
    // Power: a host powers off or reboots only when disabled and empty, as in xapi.
    d.register(
        "host.power_on",
        2,
        true,
        true,
        (c, a) -> {
          Ref<Host> h = host(a);
          if (db.get(h, Host.POWER_ON_MODE).isEmpty()) {
            throw new XenApiException(XenApiError.HOST_POWER_ON_MODE_DISABLED);
          }
          throw new XenApiException(XenApiError.XENAPI_MISSING_PLUGIN, "power-on-host");
        });
    for (String m : List.of("host.shutdown", "host.reboot")) {
      d.register(
          m,
          2,
          true,
          true,
          (c, a) -> {
            Ref<Host> h = host(a);
            if (db.get(h, Host.ENABLED)) {
              throw new XenApiException(XenApiError.HOST_NOT_DISABLED);
            }
            if (!features.residentGuests(h).isEmpty()) {
              throw new XenApiException(
                  XenApiError.HOST_IN_USE,
                  h.value(),
                  "VM",
                  features.residentGuests(h).get(0).value());
            }
            LOG.warnf("%s: the server stops", m);
            io.quarkus.runtime.Quarkus.asyncExit(0); // the service manager restarts it
            return "";
          });
    }
    d.register(
        "host.shutdown_agent",
        0,
        false,
        true,
        (c, a) -> {
          LOG.warn("host.shutdown_agent: the server stops");
          io.quarkus.runtime.Quarkus.asyncExit(0);
          return "";
        });
    for (String m : List.of("host.destroy", "host.declare_dead")) {
      d.register(
          m,
          2,
          true,
          true,
          (c, a) -> {
            // This host answers, so it is live: xapi refuses both for a live host.
            throw new XenApiException(XenApiError.HOST_IS_LIVE, host(a).value());
          });
    }
    // HA, external auth, local caching, WLB, CPU masks: not there, with xapi's errors.
    d.register(
        "host.emergency_ha_disable",
        1,
        true,
        true,
        (c, a) -> {
          if (Params.bool(a.get(0), "soft")) {
            return "";
          }
          throw new XenApiException(XenApiError.HA_NOT_ENABLED);
        });
    ExternalAuth.register(d, db, Host.CLASS);
    d.register(
        "host.enable_local_storage_caching",
        3,
        true,
        true,
        (c, a) -> {
          host(a);
          Ref<Sr> sr = Params.ref(a, 1);
          db.read(Sr.CLASS, sr);
          throw new XenApiException(XenApiError.SR_OPERATION_NOT_SUPPORTED, sr.value());
        });
    d.register("host.disable_local_storage_caching", 2, true, true, (c, a) -> none(() -> host(a)));
    d.register(
        "host.retrieve_wlb_evacuate_recommendations",
        2,
        true,
        false,
        (c, a) -> {
          host(a);
          throw new XenApiException(XenApiError.LICENCE_RESTRICTION, "WLB");
        });
    for (String m : List.of("host.set_cpu_features/3", "host.reset_cpu_features/2")) {
      String[] p = m.split("/");
      d.register(
          p[0],
          Integer.parseInt(p[1]),
          true,
          true,
          (c, a) -> {
            throw new XenApiException(XenApiError.MESSAGE_REMOVED);
          });
    }
    for (String m : List.of("host.dmesg_clear", "host.get_log")) {
      String name = m.substring("host.".length());
      d.register(
          m,
          2,
          true,
          false,
          (c, a) -> {
            host(a);
            throw new XenApiException(XenApiError.NOT_IMPLEMENTED, name);
          });
    }
    d.register(
        "host.dmesg",
        2,
        true,
        false,
        (c, a) -> {
          host(a);
          return KernelLog.read();
        });
    // Housekeeping that has nothing to do on one host with its database on local disk.
    for (String m :
        List.of("host.sync_data", "host.refresh_pack_info", "host.syslog_reconfigure")) {
      d.register(m, 2, true, true, (c, a) -> none(() -> host(a)));
    }
    d.register("host.backup_rrds", 3, true, true, (c, a) -> none(() -> host(a)));
    d.register(
        "host.get_system_status_capabilities",
        2,
        true,
        false,
        (c, a) -> {
          host(a);
          return "<?xml version=\"1.0\" ?><system-status-capabilities></system-status-capabilities>";
        });
  }
}
