package org.xsm.plugins.conformance;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.xsm.api.Capability;
import org.xsm.api.SmDriver;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiMetadata;

/**
 * Which SPI operations each capability stands for. The kit calls the operations of every capability
 * a driver does not advertise and expects {@code UNIMPLEMENTED}; capabilities without an SPI
 * operation (caching, mirroring, reset-on-boot, ...) are not listed.
 */
final class CapabilityOperations {
  private CapabilityOperations() {}

  /** What an operation is called on. */
  record Target(
      SmDriver driver, SrConfig freshConfig, SrConfig detachedSrConfig, Sr sr, String location) {}

  @FunctionalInterface
  interface Call {
    void run(Target t) throws Exception;
  }

  /** One SPI call, named as a failure message should name it. */
  record Operation(String name, Call call) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static final VdiMetadata META = VdiMetadata.named("conformance");
  private static final long FOUR_MIB = 4L * 1024 * 1024;

  static final Map<Capability, List<Operation>> OPERATIONS = operations();

  private static Map<Capability, List<Operation>> operations() {
    Map<Capability, List<Operation>> m = new EnumMap<>(Capability.class);
    m.put(
        Capability.SR_CREATE,
        List.of(new Operation("SmDriver.create", t -> t.driver().create(t.freshConfig(), 0))));
    m.put(
        Capability.SR_DELETE,
        List.of(new Operation("SmDriver.delete", t -> t.driver().delete(t.detachedSrConfig()))));
    m.put(
        Capability.SR_PROBE,
        List.of(
            new Operation(
                "SmDriver.probe", t -> t.driver().probe(t.detachedSrConfig().deviceConfig()))));
    m.put(Capability.SR_UPDATE, List.of(new Operation("Sr.update", t -> t.sr().update())));
    m.put(
        Capability.VDI_CREATE,
        List.of(new Operation("Sr.createVdi", t -> t.sr().createVdi(FOUR_MIB, META))));
    m.put(
        Capability.VDI_DELETE,
        List.of(new Operation("Sr.deleteVdi", t -> t.sr().deleteVdi(t.location()))));
    m.put(
        Capability.VDI_SNAPSHOT,
        List.of(
            new Operation(
                "Sr.snapshot DOUBLE",
                t -> t.sr().snapshot(t.location(), SnapshotKind.DOUBLE, META)),
            new Operation(
                "Sr.snapshot SINGLE",
                t -> t.sr().snapshot(t.location(), SnapshotKind.SINGLE, META))));
    m.put(
        Capability.VDI_CLONE,
        List.of(new Operation("Sr.cloneVdi", t -> t.sr().cloneVdi(t.location(), META))));
    m.put(
        Capability.VDI_RESIZE,
        List.of(new Operation("Sr.resize", t -> t.sr().resize(t.location(), 2 * FOUR_MIB))));
    m.put(
        Capability.VDI_RESIZE_ONLINE,
        List.of(
            new Operation(
                "Sr.resizeOnline", t -> t.sr().resizeOnline(t.location(), 2 * FOUR_MIB))));
    m.put(
        Capability.VDI_ATTACH,
        List.of(new Operation("Sr.attachVdi", t -> t.sr().attachVdi(t.location(), true))));
    m.put(
        Capability.VDI_DETACH,
        List.of(new Operation("Sr.detachVdi", t -> t.sr().detachVdi(t.location()))));
    m.put(
        Capability.VDI_ACTIVATE,
        List.of(new Operation("Sr.activateVdi", t -> t.sr().activateVdi(t.location()))));
    m.put(
        Capability.VDI_DEACTIVATE,
        List.of(new Operation("Sr.deactivateVdi", t -> t.sr().deactivateVdi(t.location()))));
    m.put(
        Capability.VDI_UPDATE,
        List.of(new Operation("Sr.updateVdi", t -> t.sr().updateVdi(t.location(), META))));
    m.put(
        Capability.VDI_INTRODUCE,
        List.of(
            new Operation(
                "Sr.introduceVdi",
                t -> {
                  String uuid = UUID.randomUUID().toString();
                  t.sr().introduceVdi(uuid, uuid, META);
                })));
    m.put(
        Capability.VDI_COMPOSE,
        List.of(
            new Operation(
                "Sr.compose", t -> t.sr().compose(UUID.randomUUID().toString(), t.location()))));
    m.put(
        Capability.VDI_GENERATE_CONFIG,
        List.of(
            new Operation("Sr.generateConfig", t -> t.sr().generateConfig(t.location())),
            new Operation(
                "Sr.activateFromConfig", t -> t.sr().activateFromConfig("not a config"))));
    m.put(
        Capability.VDI_CONFIG_CBT,
        List.of(
            new Operation("Sr.enableCbt", t -> t.sr().enableCbt(t.location())),
            new Operation("Sr.disableCbt", t -> t.sr().disableCbt(t.location())),
            new Operation(
                "Sr.listChangedBlocks", t -> t.sr().listChangedBlocks(t.location(), t.location())),
            new Operation("Sr.dataDestroy", t -> t.sr().dataDestroy(t.location()))));
    return m;
  }

  /** The capabilities that have operations: the parameters of the per-capability tests. */
  static List<Capability> mapped() {
    return List.copyOf(OPERATIONS.keySet());
  }
}
