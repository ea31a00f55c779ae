package org.xsm.server.migrate;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.xsm.server.db.Database;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.task.Tasks;

/** {@code VDI.pool_migrate}: a running VM's disk, with its snapshots, moved to another SR. */
@ApplicationScoped
public class MigrateRpc implements RpcModule {
  @Inject Database db;
  @Inject StorageMigration migration;
  @Inject Tasks tasks;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "VDI.pool_migrate",
        4,
        true,
        true,
        (c, a) -> {
          Ref<Vdi> vdi = Params.ref(a, 0);
          Ref<org.xsm.server.model.Sr> sr = Params.ref(a, 1);
          db.read(org.xsm.server.model.Sr.CLASS, sr);
          if (!attachedToRunningVm(vdi)) {
            // As xapi: this message is for the disk of a running VM (VM.migrate_send moves the
            // disks of a halted one).
            throw new XenApiException(XenApiError.VDI_NEEDS_VM_FOR_MIGRATE, vdi.value());
          }
          return migration.move(vdi, sr, tasks.progress(c)).vdi().value();
        });
  }

  private boolean attachedToRunningVm(Ref<Vdi> vdi) throws XenApiException {
    for (Ref<Vbd> vbd : db.get(vdi, Vdi.VBDS)) {
      Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
      if (b != null
          && db.exists(Vm.CLASS, b.get(Vbd.VM))
          && db.get(b.get(Vbd.VM), Vm.POWER_STATE) == PowerState.RUNNING) {
        return true;
      }
    }
    return false;
  }
}
