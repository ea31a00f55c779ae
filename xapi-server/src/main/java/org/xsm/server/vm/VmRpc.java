package org.xsm.server.vm;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.xsm.server.db.Database;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.WireValues;
import org.xsm.server.vm.VmOperations.Op;

/** VM, VBD and VIF lifecycle messages: wire parameters to {@link VmService} calls. */
@ApplicationScoped
public class VmRpc implements RpcModule {
  @Inject VmService vms;
  @Inject Database db;
  @Inject VmDevices devices;
  @Inject VmOperations operations;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "VM.create",
        2,
        true,
        true,
        (c, a) ->
            vms.create(WireValues.fromRecord(Vm.CLASS, Params.map(a.get(0), "args"))).value());
    d.register(
        "VM.destroy",
        2,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0), Op.DESTROY, c.task(), () -> vms.destroy(Params.ref(a, 0))));
    d.register(
        "VM.start",
        4,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.START,
                c.task(),
                () -> vms.start(Params.ref(a, 0), Params.bool(a.get(1), "start_paused"))));
    d.register(
        "VM.clean_shutdown",
        2,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.CLEAN_SHUTDOWN,
                c.task(),
                () -> vms.halt(Params.ref(a, 0), false)));
    d.register(
        "VM.hard_shutdown",
        2,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.HARD_SHUTDOWN,
                c.task(),
                () -> vms.halt(Params.ref(a, 0), true)));
    d.register(
        "VM.pause",
        2,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.PAUSE,
                c.task(),
                () -> vms.transition(Params.ref(a, 0), PowerState.RUNNING, PowerState.PAUSED)));
    d.register(
        "VM.unpause",
        2,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.UNPAUSE,
                c.task(),
                () -> vms.transition(Params.ref(a, 0), PowerState.PAUSED, PowerState.RUNNING)));
    d.register(
        "VM.suspend",
        2,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0), Op.SUSPEND, c.task(), () -> vms.suspend(Params.ref(a, 0))));
    d.register(
        "VM.resume",
        4,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.RESUME,
                c.task(),
                () -> vms.resume(Params.ref(a, 0), Params.bool(a.get(1), "start_paused"))));
    d.register(
        "VBD.create",
        2,
        true,
        true,
        (c, a) ->
            devices
                .createVbd(WireValues.fromRecord(Vbd.CLASS, Params.map(a.get(0), "args")))
                .value());
    d.register(
        "VBD.destroy",
        2,
        true,
        true,
        (c, a) -> {
          Ref<Vbd> vbd = Params.ref(a, 0);
          return none(() -> vms.destroyDevice(Vbd.CLASS, vbd, db.get(vbd, Vbd.CURRENTLY_ATTACHED)));
        });
    d.register("VBD.plug", 2, true, true, (c, a) -> none(() -> devices.plug(Params.ref(a, 0))));
    d.register(
        "VBD.unplug", 2, true, true, (c, a) -> none(() -> devices.unplug(Params.ref(a, 0), false)));
    d.register(
        "VIF.create",
        2,
        true,
        true,
        (c, a) ->
            devices
                .createVif(WireValues.fromRecord(Vif.CLASS, Params.map(a.get(0), "args")))
                .value());
    d.register(
        "VIF.destroy",
        2,
        true,
        true,
        (c, a) -> {
          Ref<Vif> vif = Params.ref(a, 0);
          return none(() -> vms.destroyDevice(Vif.CLASS, vif, db.get(vif, Vif.CURRENTLY_ATTACHED)));
        });
  }
}
