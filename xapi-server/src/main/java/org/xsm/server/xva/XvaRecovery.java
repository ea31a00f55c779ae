package org.xsm.server.xva;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.util.Map;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.model.Network;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;
import org.xsm.server.network.NetworkService;
import org.xsm.server.vdi.VdiService;
import org.xsm.server.vm.VmService;

/**
 * At start, after the SRs are plugged: the records an import cut by a crash made (marked {@link
 * XvaObjects#INCOMPLETE}) are destroyed, as the import would have destroyed them on failure: VMs
 * with their devices, then VDIs with their data, then networks. The import's task died with the
 * server; its client sees the connection cut.
 */
@ApplicationScoped
public class XvaRecovery {
  private static final Logger LOG = Logger.getLogger(XvaRecovery.class);

  @Inject Database db;
  @Inject VmService vms;
  @Inject VdiService vdis;
  @Inject NetworkService networks;

  void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION + 1100) StartupEvent ev) {
    removeUnfinished();
  }

  /** Destroys every record marked by an unfinished import; returns how many. */
  public int removeUnfinished() {
    int n = 0;
    for (Ref<Vm> vm : db.fullScan(Vm.CLASS, r -> marked(r.get(Vm.OTHER_CONFIG)))) {
      try {
        db.set(vm, Vm.CURRENT_OPERATIONS, Map.of());
        vms.destroy(vm);
        n++;
      } catch (XenApiException e) {
        LOG.errorf(e, "VM %s of an unfinished import could not be removed", vm);
      }
    }
    for (Ref<Vdi> vdi : db.fullScan(Vdi.CLASS, r -> marked(r.get(Vdi.OTHER_CONFIG)))) {
      try {
        vdis.destroy(vdi);
        n++;
      } catch (XenApiException e) {
        LOG.errorf(e, "VDI %s of an unfinished import could not be removed", vdi);
      }
    }
    for (Ref<Network> net : db.fullScan(Network.CLASS, r -> marked(r.get(Network.OTHER_CONFIG)))) {
      try {
        networks.destroy(net);
        n++;
      } catch (XenApiException e) {
        LOG.errorf(e, "network %s of an unfinished import could not be removed", net);
      }
    }
    if (n > 0) {
      LOG.warnf("removed %d records of imports cut by a restart", n);
    }
    return n;
  }

  private static boolean marked(Map<String, String> otherConfig) {
    return otherConfig.containsKey(XvaObjects.INCOMPLETE);
  }
}
