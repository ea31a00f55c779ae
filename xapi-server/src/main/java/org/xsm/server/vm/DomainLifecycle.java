package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Set;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.domain.DomainListener;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.message.MessageService;
import org.xsm.server.model.OnCrashBehaviour;
import org.xsm.server.model.OnNormalExit;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;

/**
 * Domains that end on their own, and domains that outlive the server.
 *
 * <p>A guest that powers itself off is handled as {@code actions_after_shutdown} says (destroy:
 * Halted; restart: started again). A domain that dies (its QEMU killed or crashed) gets a {@code
 * VM_CRASHED} message (priority 2, as xapi's) and {@code actions_after_crash}: the restart variants
 * start it again; destroy, coredump_and_destroy and preserve leave it Halted (there is no dead
 * domain to preserve; no core is dumped).
 *
 * <p>At start, the domains left running by the previous server are adopted: their VMs stay Running
 * (or Paused), and their disks are activated and exported again under the same names, which the
 * guests' NBD clients reconnect to.
 */
@ApplicationScoped
public class DomainLifecycle implements DomainListener {
  private static final Logger LOG = Logger.getLogger(DomainLifecycle.class);

  @Inject Database db;
  @Inject VmDomains domains;
  @Inject VmService vms;
  @Inject MessageService messages;
  @Inject GuestAgent agent;

  @Override
  public void guestAddress(String vmUuid, String mac, String ipv4) {
    db.beginCall();
    try {
      agent.reportAddress(domains.byUuid(vmUuid), mac, ipv4);
    } catch (XenApiException e) {
      LOG.warnf(e, "VM %s: the address its guest reported could not be recorded", vmUuid);
    } finally {
      db.endCall();
    }
  }

  /** Adopts surviving domains and starts listening; the UUIDs of the VMs whose domain survived. */
  public Set<String> adopt() {
    domains.setListener(this);
    return domains.domains().adopt().stream().map(DomainSpec::vmUuid).collect(Collectors.toSet());
  }

  /** After the SRs are plugged: the adopted domains' disks come back. */
  public void reattach(Set<String> adopted) {
    for (String uuid : adopted) {
      try {
        vms.replugDevices(domains.byUuid(uuid));
      } catch (XenApiException e) {
        LOG.errorf(e, "VM %s survived the restart but its disks could not be exported again", uuid);
      }
    }
  }

  @Override
  public void ended(String vmUuid, Exit exit, String detail) {
    db.beginCall();
    try {
      Ref<Vm> vm = domains.byUuid(vmUuid);
      Row<Vm> r = db.read(Vm.CLASS, vm);
      PowerState s = r.get(Vm.POWER_STATE);
      if (s != PowerState.RUNNING && s != PowerState.PAUSED) {
        return; // the record moved on (an operation ended it meanwhile)
      }
      boolean restart;
      if (exit == Exit.CRASH) {
        messages.create(
            "VM_CRASHED", 2, "VM", vmUuid, "VM '" + r.get(Vm.NAME_LABEL) + "' crashed: " + detail);
        OnCrashBehaviour a = r.get(Vm.ACTIONS_AFTER_CRASH);
        restart =
            a == OnCrashBehaviour.RESTART
                || a == OnCrashBehaviour.COREDUMP_AND_RESTART
                || a == OnCrashBehaviour.RENAME_RESTART;
        LOG.warnf("VM %s crashed (%s); actions_after_crash %s", vmUuid, detail, a.wire());
      } else {
        restart = r.get(Vm.ACTIONS_AFTER_SHUTDOWN) == OnNormalExit.RESTART;
        LOG.infof(
            "VM %s shut itself down; actions_after_shutdown %s",
            vmUuid, restart ? "restart" : "destroy");
      }
      vms.domainGone(vm);
      if (restart) {
        vms.start(vm, false);
      }
    } catch (XenApiException e) {
      LOG.errorf(e, "VM %s: its domain ended (%s) and the VM could not be updated", vmUuid, exit);
    } finally {
      db.endCall();
    }
  }
}
