package org.xsm.server.vm;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.task.Tasks;
import org.xsm.server.vm.VmOperations.Op;

/** VM.snapshot, checkpoint, revert, clone and copy: wire parameters to service calls. */
@ApplicationScoped
public class VmSnapshotRpc implements RpcModule {
  @Inject VmSnapshotService snapshots;
  @Inject VmRevert reverts;
  @Inject Tasks tasks;
  @Inject VmOperations operations;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "VM.snapshot",
        -1,
        true,
        true,
        (c, a) -> operations.during(Params.ref(a, 0), Op.SNAPSHOT, c.task(), () -> snapshot(a)));
    d.register("VM.revert", 2, true, true, (c, a) -> none(() -> reverts.revert(Params.ref(a, 0))));
    d.register(
        "VM.clone",
        3,
        true,
        true,
        (c, a) ->
            operations.during(
                Params.ref(a, 0),
                Op.CLONE,
                c.task(),
                () ->
                    snapshots
                        .cloneVm(Params.ref(a, 0), Params.str(a, 1), null, tasks.progress(c))
                        .value()));
    d.register(
        "VM.copy",
        4,
        true,
        true,
        (c, a) ->
            operations.during(
                Params.ref(a, 0),
                Op.COPY,
                c.task(),
                () ->
                    snapshots
                        .cloneVm(
                            Params.ref(a, 0), Params.str(a, 1), Params.ref(a, 2), tasks.progress(c))
                        .value()));
    d.register(
        "VM.checkpoint",
        3,
        true,
        true,
        (c, a) ->
            operations.during(
                Params.ref(a, 0),
                Op.CHECKPOINT,
                c.task(),
                () -> snapshots.checkpoint(Params.ref(a, 0), Params.str(a, 1)).value()));
  }

  /** VM.snapshot(session, vm, name[, ignore_vdis]). */
  private Object snapshot(List<Object> a) throws XenApiException {
    if (a.size() < 2 || a.size() > 3) {
      throw new XenApiException(
          XenApiError.MESSAGE_PARAMETER_COUNT_MISMATCH,
          "VM.snapshot",
          "2",
          String.valueOf(a.size()));
    }
    List<Ref<Vdi>> ignore =
        a.size() == 3
            ? Params.strings(a.get(2), "ignore_vdis").stream().map(Ref::<Vdi>of).toList()
            : List.of();
    return snapshots.snapshot(Params.ref(a, 0), Params.str(a, 1), ignore).value();
  }
}
