package org.xsm.server.vm;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.xsm.server.db.Database;
import org.xsm.server.model.Console;
import org.xsm.server.model.Field;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vgpu;
import org.xsm.server.model.Vif;
import org.xsm.server.model.VifIpv4ConfigurationMode;
import org.xsm.server.model.VifIpv6ConfigurationMode;
import org.xsm.server.model.Vm;
import org.xsm.server.model.Vtpm;
import org.xsm.server.model.WireEnum;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.WireValues;

/**
 * VBD media and forced unplugs, VIF plug/unplug/move/configure, and the VGPU, VTPM and console
 * records: wire parameters to {@link VmDevices} calls and record changes.
 */
@ApplicationScoped
public class VmDeviceRpc implements RpcModule {
  @Inject Database db;
  @Inject VmDevices devices;
  @Inject VmOperations operations;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "VBD.insert",
        3,
        true,
        true,
        (c, a) -> none(() -> devices.insert(Params.ref(a, 0), Params.ref(a, 1))));
    d.register("VBD.eject", 2, true, true, (c, a) -> none(() -> devices.eject(Params.ref(a, 0))));
    d.register(
        "VBD.unplug_force",
        2,
        true,
        true,
        (c, a) -> none(() -> devices.unplug(Params.ref(a, 0), true)));
    d.register(
        "VBD.assert_attachable",
        2,
        true,
        false,
        (c, a) -> none(() -> devices.assertAttachable(Params.ref(a, 0))));
    d.register("VIF.plug", 2, true, true, (c, a) -> none(() -> devices.plugVif(Params.ref(a, 0))));
    for (String m : List.of("VIF.unplug", "VIF.unplug_force")) {
      d.register(m, 2, true, true, (c, a) -> none(() -> devices.unplugVif(Params.ref(a, 0))));
    }
    d.register(
        "VIF.move",
        3,
        true,
        true,
        (c, a) -> none(() -> devices.moveVif(Params.ref(a, 0), Params.ref(a, 1))));
    d.register(
        "VIF.configure_ipv4",
        5,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    configure(
                        a,
                        Vif.IPV4_CONFIGURATION_MODE,
                        mode(VifIpv4ConfigurationMode.class, Params.str(a, 1)),
                        Vif.IPV4_ADDRESSES,
                        Vif.IPV4_GATEWAY)));
    d.register(
        "VIF.configure_ipv6",
        5,
        true,
        true,
        (c, a) ->
            none(
                () ->
                    configure(
                        a,
                        Vif.IPV6_CONFIGURATION_MODE,
                        mode(VifIpv6ConfigurationMode.class, Params.str(a, 1)),
                        Vif.IPV6_ADDRESSES,
                        Vif.IPV6_GATEWAY)));
    registerRecords(d);
  }

  /** VIF.configure_ipv4/6(vif, mode, address, gateway): the guest's static configuration. */
  private <E> void configure(
      List<Object> a,
      Field<Vif, E> modeField,
      E mode,
      Field<Vif, List<String>> addressesField,
      Field<Vif, String> gatewayField)
      throws XenApiException {
    Ref<Vif> vif = Params.ref(a, 0);
    db.update(
        Vif.CLASS,
        vif,
        Values.of(Vif.CLASS)
            .with(modeField, mode)
            .with(addressesField, addresses(Params.str(a, 2)))
            .with(gatewayField, Params.str(a, 3)));
  }

  private static List<String> addresses(String a) {
    return a.isEmpty() ? List.of() : List.of(a);
  }

  /** An enumeration value by its wire name (case-insensitive, as xapi reads enums). */
  private static <E extends Enum<E> & WireEnum> E mode(Class<E> type, String wire)
      throws XenApiException {
    for (E e : type.getEnumConstants()) {
      if (e.wire().equalsIgnoreCase(wire)) {
        return e;
      }
    }
    throw new XenApiException(XenApiError.INVALID_VALUE, "mode", wire);
  }

  private void registerRecords(Dispatcher d) {
    d.register(
        "VGPU.create",
        -1,
        true,
        true,
        (c, a) -> {
          if (a.size() != 4 && a.size() != 5) {
            throw new XenApiException(
                XenApiError.MESSAGE_PARAMETER_COUNT_MISMATCH,
                "VGPU.create",
                "5",
                String.valueOf(a.size()));
          }
          db.read(Vm.CLASS, Params.ref(a, 0));
          // This host has no GPU and so no GPU group: every group reference is invalid.
          throw new XenApiException(XenApiError.HANDLE_INVALID, "GPU_group", Params.str(a, 1));
        });
    d.register(
        "VGPU.destroy",
        2,
        true,
        true,
        (c, a) ->
            none(
                () -> {
                  Ref<Vgpu> v = Params.ref(a, 0);
                  if (db.get(v, Vgpu.CURRENTLY_ATTACHED)) {
                    throw new XenApiException(
                        XenApiError.OPERATION_NOT_ALLOWED, "VGPU " + v.value() + " is attached");
                  }
                  db.destroy(Vgpu.CLASS, v);
                }));
    d.register(
        "VTPM.create",
        2,
        true,
        true,
        (c, a) ->
            devices
                .createVtpm(WireValues.fromRecord(Vtpm.CLASS, Params.map(a.get(0), "args")))
                .value());
    d.register(
        "VTPM.destroy", 2, true, true, (c, a) -> none(() -> devices.destroyVtpm(Params.ref(a, 0))));
    d.register(
        "console.create",
        2,
        true,
        true,
        (c, a) ->
            devices
                .createConsole(WireValues.fromRecord(Console.CLASS, Params.map(a.get(0), "args")))
                .value());
    d.register(
        "console.destroy",
        2,
        true,
        true,
        (c, a) -> none(() -> db.destroy(Console.CLASS, Params.<Console>ref(a, 0))));
  }
}
