package org.xsm.server.vm;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.vm.VmOperations.Op;

/** A VM's memory, vCPU and boot settings: wire parameters to {@link VmConfig} calls. */
@ApplicationScoped
public class VmConfigRpc implements RpcModule {
  @Inject Database db;
  @Inject VmConfig config;
  @Inject VmOperations operations;

  @Override
  public void register(Dispatcher d) {
    registerMemory(d);
    d.register(
        "VM.set_bios_strings",
        3,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    config.setBiosStrings(Params.ref(a, 0), Params.stringMap(a.get(1), "value"))));
    d.register(
        "VM.set_is_a_template",
        3,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    config.setIsATemplate(
                        Params.ref(a, 0), Params.bool(a.get(1), "value"), c.task())));
    d.register(
        "VM.set_domain_type",
        3,
        true,
        true,
        (c, a) -> none(() -> config.setDomainType(Params.ref(a, 0), Params.str(a, 1))));
    d.register(
        "VM.set_affinity",
        3,
        true,
        true,
        (c, a) -> none(() -> config.setAffinity(Params.ref(a, 0), Params.ref(a, 1))));
    d.register(
        "VM.copy_bios_strings",
        3,
        true,
        true,
        (c, a) -> none(() -> config.copyBiosStrings(Params.ref(a, 0), Params.ref(a, 1))));
  }

  /** xapi routes set_memory_static_min/max to the static range, dynamic_min/max to the dynamic. */
  private void setRange(boolean isStatic, Ref<Vm> vm, Long min, Long max) throws XenApiException {
    if (isStatic) {
      config.setStaticRange(vm, min, max);
    } else {
      config.setDynamicRange(vm, min, max);
    }
  }

  private void registerMemory(Dispatcher d) {
    d.register(
        "VM.set_memory_limits",
        6,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    config.setLimits(
                        Params.ref(a, 0),
                        Params.lng(a.get(1), "static_min"),
                        Params.lng(a.get(2), "static_max"),
                        Params.lng(a.get(3), "dynamic_min"),
                        Params.lng(a.get(4), "dynamic_max"))));
    d.register(
        "VM.set_memory",
        3,
        true,
        true,
        (c, a) -> none(() -> config.setMemory(Params.ref(a, 0), Params.lng(a.get(1), "value"))));
    for (String range : List.of("static", "dynamic")) {
      boolean isStatic = range.equals("static");
      d.register(
          "VM.set_memory_" + range + "_range",
          4,
          true,
          true,
          (c, a) ->
              none(
                  () ->
                      setRange(
                          isStatic,
                          Params.ref(a, 0),
                          Params.lng(a.get(1), "min"),
                          Params.lng(a.get(2), "max"))));
      for (String bound : List.of("min", "max")) {
        boolean min = bound.equals("min");
        d.register(
            "VM.set_memory_" + range + "_" + bound,
            3,
            true,
            true,
            (c, a) ->
                none(
                    () -> {
                      long v = Params.lng(a.get(1), "value");
                      setRange(isStatic, Params.ref(a, 0), min ? v : null, min ? null : v);
                    }));
      }
    }
    d.register(
        "VM.set_memory_target_live",
        3,
        true,
        true,
        (c, a) -> none(() -> config.setTargetLive(Params.ref(a, 0))));
    d.register(
        "VM.wait_memory_target_live",
        2,
        true,
        true,
        (c, a) -> none(() -> operations.assertValid(Params.ref(a, 0), Op.AWAITING_MEMORY_LIVE)));
    d.register(
        "VM.set_VCPUs_max",
        3,
        true,
        true,
        (c, a) -> none(() -> config.setVcpusMax(Params.ref(a, 0), Params.lng(a.get(1), "value"))));
    d.register(
        "VM.set_VCPUs_at_startup",
        3,
        true,
        true,
        (c, a) ->
            none(() -> config.setVcpusAtStartup(Params.ref(a, 0), Params.lng(a.get(1), "value"))));
    d.register(
        "VM.set_VCPUs_number_live",
        3,
        true,
        true,
        (c, a) -> none(() -> config.setVcpusLive(Params.ref(a, 0), Params.lng(a.get(1), "nvcpu"))));
    d.register(
        "VM.add_to_VCPUs_params_live",
        4,
        true,
        true,
        (c, a) -> {
          throw new XenApiException(XenApiError.NOT_IMPLEMENTED, "add_to_VCPUs_params_live");
        });
    d.register(
        "VM.set_shadow_multiplier_live",
        3,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    config.setShadowMultiplier(
                        Params.ref(a, 0), Params.dbl(a.get(1), "multiplier"), true)));
    d.register(
        "VM.set_HVM_shadow_multiplier",
        3,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    config.setShadowMultiplier(
                        Params.ref(a, 0), Params.dbl(a.get(1), "value"), false)));
    d.register(
        "VM.set_HVM_boot_policy",
        3,
        true,
        true,
        (c, a) -> none(() -> config.setHvmBootPolicy(Params.ref(a, 0), Params.str(a, 1))));
    d.register(
        "VM.set_suspend_VDI",
        3,
        true,
        true,
        (c, a) -> none(() -> config.setSuspendVdi(Params.ref(a, 0), Params.ref(a, 1))));
    d.register(
        "VM.set_has_vendor_device",
        3,
        true,
        true,
        (c, a) ->
            none(
                () -> config.setHasVendorDevice(Params.ref(a, 0), Params.bool(a.get(1), "value"))));
    d.register(
        "VM.compute_memory_overhead",
        2,
        true,
        false,
        (c, a) -> config.overhead(db.get(Params.<Vm>ref(a, 0), Vm.MEMORY_STATIC_MAX)));
    d.register(
        "VM.maximise_memory",
        4,
        true,
        false,
        (c, a) -> config.maximise(Params.ref(a, 0), Params.lng(a.get(1), "total")));
  }
}
