package org.xsm.server.vm;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.vm.VmOperations.Op;

/**
 * The VM messages beyond the lifecycle of {@link VmRpc}: reboots, placement, migration, memory and
 * vCPU settings, provision, allowed operations and devices, and the messages for what xsm has not
 * (WLB, data-source archives, guest plugins), which answer with xapi's error for that case.
 */
@ApplicationScoped
public class VmOpsRpc implements RpcModule {
  @Inject Database db;
  @Inject VmPower power;
  @Inject VmOperations operations;
  @Inject VmDevices devices;
  @Inject Templates templates;
  @Inject HostService hosts;

  @Override
  public void register(Dispatcher d) {
    registerPower(d);
    registerQueries(d);
    registerUnavailable(d);
  }

  private void registerPower(Dispatcher d) {
    d.register(
        "VM.clean_reboot",
        2,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.CLEAN_REBOOT,
                c.task(),
                () -> power.reboot(Params.ref(a, 0), false)));
    d.register(
        "VM.hard_reboot",
        2,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.HARD_REBOOT,
                c.task(),
                () -> power.reboot(Params.ref(a, 0), true)));
    d.register(
        "VM.shutdown",
        2,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0), Op.SHUTDOWN, c.task(), () -> power.shutdown(Params.ref(a, 0))));
    d.register(
        "VM.start_on",
        5,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.START_ON,
                c.task(),
                () ->
                    power.startOn(
                        Params.ref(a, 0),
                        Params.ref(a, 1),
                        Params.bool(a.get(2), "start_paused"))));
    d.register(
        "VM.resume_on",
        5,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.RESUME_ON,
                c.task(),
                () ->
                    power.resumeOn(
                        Params.ref(a, 0),
                        Params.ref(a, 1),
                        Params.bool(a.get(2), "start_paused"))));
    d.register(
        "VM.power_state_reset",
        2,
        true,
        true,
        (c, a) -> none(() -> power.powerStateReset(Params.ref(a, 0))));
    d.register(
        "VM.pool_migrate",
        4,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.POOL_MIGRATE,
                c.task(),
                () -> power.poolMigrate(Params.ref(a, 0), Params.ref(a, 1))));
    d.register("VM.migrate_send", -1, true, true, (c, a) -> migrate("VM.migrate_send", a, true));
    d.register(
        "host.migrate_receive",
        4,
        true,
        true,
        (c, a) -> power.migrateReceive(c.session(), Params.ref(a, 0), Params.ref(a, 1)));
    d.register(
        "VM.assert_can_migrate",
        -1,
        true,
        false,
        (c, a) -> migrate("VM.assert_can_migrate", a, false));
    d.register(
        "VM.assert_can_boot_here",
        3,
        true,
        false,
        (c, a) -> none(() -> power.assertCanBootHere(Params.ref(a, 0), Params.ref(a, 1))));
    d.register(
        "VM.provision",
        2,
        true,
        true,
        (c, a) ->
            operations.call(
                Params.ref(a, 0),
                Op.PROVISION,
                c.task(),
                () -> templates.provision(Params.ref(a, 0))));
    d.register(
        "VM.snapshot_with_quiesce",
        3,
        true,
        true,
        (c, a) -> {
          operations.assertValid(Params.ref(a, 0), Op.SNAPSHOT_WITH_QUIESCE);
          return Ref.nullRef().value();
        });
    d.register(
        "VM.send_sysrq",
        3,
        true,
        true,
        (c, a) -> none(() -> operations.assertValid(Params.ref(a, 0), Op.SEND_SYSRQ)));
    d.register(
        "VM.send_trigger",
        3,
        true,
        true,
        (c, a) -> none(() -> operations.assertValid(Params.ref(a, 0), Op.SEND_TRIGGER)));
  }

  /**
   * VM.migrate_send / assert_can_migrate (vm, dest, live, vdi_map, vif_map, options[, vgpu_map]).
   */
  private Object migrate(String name, List<Object> a, boolean go) throws XenApiException {
    if (a.size() != 6 && a.size() != 7) {
      throw new XenApiException(
          XenApiError.MESSAGE_PARAMETER_COUNT_MISMATCH, name, "6", String.valueOf(a.size()));
    }
    Map<String, String> options = Params.stringMap(a.get(5), "options");
    boolean copy = "true".equalsIgnoreCase(options.getOrDefault("copy", "false"));
    Ref<Vm> vm =
        power.migrateSend(
            Params.ref(a, 0),
            Params.stringMap(a.get(1), "dest"),
            copy,
            Params.stringMap(a.get(3), "vdi_map"),
            go);
    return go ? vm.value() : "";
  }

  private void registerQueries(Dispatcher d) {
    d.register(
        "VM.update_allowed_operations",
        2,
        true,
        true,
        (c, a) -> none(() -> operations.update(Params.ref(a, 0))));
    d.register(
        "VM.assert_operation_valid",
        3,
        true,
        false,
        (c, a) -> {
          String op = Params.str(a, 1);
          Op o = Op.of(op);
          if (o == null) {
            throw new XenApiException(XenApiError.INVALID_VALUE, "op", op);
          }
          return none(() -> operations.assertValid(Params.ref(a, 0), o));
        });
    d.register(
        "VM.get_allowed_VBD_devices",
        2,
        true,
        false,
        (c, a) -> devices.allowedVbdDevices(Params.ref(a, 0)));
    d.register(
        "VM.get_allowed_VIF_devices",
        2,
        true,
        false,
        (c, a) -> devices.allowedVifDevices(Params.ref(a, 0)));
    d.register(
        "VM.get_boot_record",
        2,
        true,
        false,
        (c, a) -> {
          Ref<Vm> vm = Params.ref(a, 0);
          operations.assertValid(vm, Op.GET_BOOT_RECORD);
          return db.wireRecord(Vm.CLASS, vm.value());
        });
    d.register(
        "VM.get_possible_hosts",
        2,
        true,
        false,
        (c, a) -> {
          Row<Vm> r = db.read(Vm.CLASS, Params.ref(a, 0));
          boolean can = !r.get(Vm.IS_A_TEMPLATE) && !r.get(Vm.IS_A_SNAPSHOT);
          return can ? List.of(hosts.host().value()) : List.of();
        });
    d.register(
        "VM.get_cooperative",
        2,
        true,
        false,
        (c, a) -> {
          db.read(Vm.CLASS, Params.ref(a, 0));
          return true; // deprecated in xapi, which always answers true
        });
    d.register(
        "VM.assert_agile", 2, true, false, (c, a) -> none(() -> assertAgile(Params.ref(a, 0))));
    d.register(
        "VM.get_SRs_required_for_recovery",
        3,
        true,
        false,
        (c, a) -> {
          db.read(Vm.CLASS, Params.ref(a, 0));
          return List.of(); // the target is this pool, which has every SR of the VM
        });
    d.register(
        "VM.assert_can_be_recovered",
        3,
        true,
        false,
        (c, a) -> none(() -> db.read(Vm.CLASS, Params.ref(a, 0))));
    d.register(
        "VM.recover",
        4,
        true,
        true,
        (c, a) -> none(() -> db.read(Vm.CLASS, Params.ref(a, 0)))); // already in the target pool
    // VM.create_new_blob and the data-source messages are the blob/ and stats/ packages'.
  }

  /** VM.assert_agile: every disk on a shared SR (xapi's HA agility rule). */
  private void assertAgile(Ref<Vm> vm) throws XenApiException {
    for (Ref<Vbd> vbd : db.get(vm, Vm.VBDS)) {
      Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
      if (b == null || b.get(Vbd.EMPTY) || !db.exists(Vdi.CLASS, b.get(Vbd.VDI))) {
        continue;
      }
      Ref<Sr> sr = db.get(b.get(Vbd.VDI), Vdi.SR);
      if (db.exists(Sr.CLASS, sr) && !db.get(sr, Sr.SHARED)) {
        throw new XenApiException(XenApiError.HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED, sr.value());
      }
    }
  }

  /** What xsm has not: answered with xapi's error for a pool without it. */
  private void registerUnavailable(Dispatcher d) {
    d.register(
        "VM.retrieve_wlb_recommendations",
        2,
        true,
        false,
        (c, a) -> {
          db.read(Vm.CLASS, Params.ref(a, 0));
          throw new XenApiException(XenApiError.WLB_NOT_INITIALIZED);
        });
    d.register(
        "VM.query_services",
        2,
        true,
        false,
        (c, a) -> {
          operations.assertValid(Params.ref(a, 0), Op.QUERY_SERVICES);
          return Map.of();
        });
    d.register(
        "VM.call_plugin",
        5,
        true,
        true,
        (c, a) -> {
          operations.assertValid(Params.ref(a, 0), Op.CALL_PLUGIN);
          throw new XenApiException(XenApiError.XENAPI_MISSING_PLUGIN, Params.str(a, 1));
        });
    d.register(
        "VM.import_convert",
        6,
        true,
        true,
        (c, a) -> {
          throw new XenApiException(XenApiError.XENAPI_MISSING_PLUGIN, "convert");
        });
  }
}
