package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xsm.api.Capability;
import org.xsm.api.ConfigKey;
import org.xsm.api.DriverInfo;
import org.xsm.api.SmDriver;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.conformance.CapabilityOperations.Operation;
import org.xsm.plugins.conformance.CapabilityOperations.Target;

/** Driver description, SR lifecycle, VDI lifecycle and I/O, and the basic error codes. */
public abstract class BasicConformance extends KitSupport {

  @Test
  void driverInfoIsComplete() throws Exception {
    DriverInfo i = info();
    assertThat(i.type()).as("type").isNotBlank().isEqualTo(i.type().toLowerCase(Locale.ROOT));
    assertThat(i.type()).as("type").doesNotContainAnyWhitespaces();
    assertThat(i.name()).as("name").isNotBlank();
    assertThat(i.description()).as("description").isNotBlank();
    assertThat(i.vendor()).as("vendor").isNotBlank();
    assertThat(i.copyright()).as("copyright").isNotBlank();
    assertThat(i.driverVersion()).as("driverVersion").isNotBlank();
    assertThat(i.requiredApiVersion()).as("requiredApiVersion").isEqualTo(SmDriver.API_VERSION);
    assertThat(i.capabilities()).as("capabilities").isNotEmpty();
    assertThat(i.supportedImageFormats()).as("supportedImageFormats").isNotEmpty();
    assertThat(i.supportedImageFormats())
        .as("supportedImageFormats")
        .allSatisfy(f -> assertThat(f).isNotBlank());
    Set<String> names = new HashSet<>();
    for (ConfigKey key : i.configuration()) {
      assertThat(key.name()).as("configuration key name").isNotBlank();
      assertThat(key.description())
          .as("help text of configuration key %s", key.name())
          .isNotBlank();
      assertThat(names.add(key.name())).as("configuration key %s listed once", key.name()).isTrue();
    }
    assertThat(names)
        .as("configuration keys, which must document every key the backend's fixture passes")
        .containsAll(fixture().config().deviceConfig().keySet());
    assertThat(driver().info()).as("info() asked twice").isEqualTo(i);
  }

  @Test
  void capabilitiesAreCoherent() throws Exception {
    assertThat(has(Capability.VDI_DETACH))
        .as("VDI_DETACH iff VDI_ATTACH")
        .isEqualTo(has(Capability.VDI_ATTACH));
    assertThat(has(Capability.VDI_DEACTIVATE))
        .as("VDI_DEACTIVATE iff VDI_ACTIVATE")
        .isEqualTo(has(Capability.VDI_ACTIVATE));
    if (has(Capability.VDI_ACTIVATE)) {
      assertThat(has(Capability.VDI_ATTACH)).as("VDI_ACTIVATE needs VDI_ATTACH").isTrue();
    }
    if (has(Capability.ATOMIC_PAUSE)) {
      assertThat(has(Capability.VDI_SNAPSHOT) || has(Capability.VDI_CLONE))
          .as("ATOMIC_PAUSE needs VDI_SNAPSHOT or VDI_CLONE")
          .isTrue();
    }
  }

  @Test
  void driverIsFoundByServiceLoader() throws Exception {
    String type = info().type();
    List<SmDriver> found =
        ServiceLoader.load(SmDriver.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(d -> d.info().type().equals(type))
            .toList();
    assertThat(found).as("drivers registered for SR type %s", type).hasSize(1);
    assertThat(found.get(0)).as("the registered driver").isInstanceOf(driver().getClass());
  }

  static List<Capability> mappedCapabilities() {
    return CapabilityOperations.mapped();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("mappedCapabilities")
  void unadvertisedOperationsFailWithUnimplemented(Capability capability) throws Exception {
    assumeTrue(!has(capability), "driver advertises " + capability);
    Sr sr = newSr();
    String location =
        has(Capability.VDI_CREATE)
            ? createVdi(sr, 4L * MIB, "unadvertised").location()
            : randomLocation();
    Sr other = newSr();
    SrConfig detached = fixture().config();
    detachSr(other);
    SrConfig fresh = newSrFixture().config();
    Map<String, String> before = managedSummary(sr);
    Target target = new Target(driver(), fresh, detached, sr, location);
    for (Operation op : CapabilityOperations.OPERATIONS.get(capability)) {
      SmException e =
          expectError(
              SmError.UNIMPLEMENTED,
              op + " while " + capability + " is not advertised",
              () -> op.call().run(target));
      assertThat(e.getMessage()).as("message of %s", op).startsWith("This driver does not support");
    }
    assertThat(managedSummary(sr)).as("VDIs after the refused calls").isEqualTo(before);
  }

  @Test
  void srAttachAndDetach() throws Exception {
    Sr sr = newSr();
    assertThat(sr.scan()).as("scan of a new SR").isEmpty();
    assertThat(sr.stats().virtualAllocationBytes()).as("virtual allocation of a new SR").isZero();
    expectError(
        SmError.SR_IN_USE, "attach of an attached SR", () -> driver().attach(fixture().config()));
    // Another instance of the driver is the same host: it must refuse too.
    SmDriver second = driver().getClass().getDeclaredConstructor().newInstance();
    expectError(
        SmError.SR_IN_USE,
        "attach of an attached SR through a second instance of the driver",
        () -> second.attach(fixture().config()));
    detachSr(sr);
    expectError(SmError.SR_NOT_ATTACHED, "scan of a detached SR", sr::scan);
    if (has(Capability.VDI_CREATE)) {
      expectError(
          SmError.SR_NOT_ATTACHED,
          "createVdi on a detached SR",
          () -> sr.createVdi(4L * MIB, VdiMetadata.named("late")));
    }
    Sr again = attachSr(fixture().config());
    assertThat(again.scan()).as("scan after re-attach").isEmpty();
  }

  @Test
  void twoSrsAreIndependent() throws Exception {
    assumeVdiIo();
    Sr first = newSr();
    Sr second = newSr();
    assertThat(second.uuid()).as("SR UUIDs").isNotEqualTo(first.uuid());
    VdiInfo a = createVdi(first, 4L * MIB, "on the first SR");
    ShadowDisk data = createWithData(first, a, 17);
    VdiInfo b = createVdi(second, 4L * MIB, "on the second SR");
    assertThat(locations(first.scan())).as("scan of the first SR").containsExactly(a.location());
    assertThat(locations(second.scan())).as("scan of the second SR").containsExactly(b.location());
    expectError(
        SmError.VDI_MISSING,
        "attach, on the second SR, of a VDI of the first",
        () -> second.attachVdi(a.location(), false));
    assertThat(second.stats().virtualAllocationBytes())
        .as("allocation of the second SR")
        .isEqualTo(b.virtualSizeBytes());
    detachSr(second);
    assertContent(first, a.location(), data, "VDI of the first SR after the second's detach");
  }

  @Test
  void srCreate() throws Exception {
    assumeCapabilities(Capability.SR_CREATE);
    SrFixture f = newFixture();
    SmDriver driver = f.driver();
    expectError(
        SmError.SR_UNAVAILABLE, "attach of storage holding no SR", () -> driver.attach(f.config()));
    for (ConfigKey key : info().configuration()) {
      if (key.required()) {
        Map<String, String> without = new HashMap<>(f.config().deviceConfig());
        without.remove(key.name());
        SmException e =
            expectError(
                SmError.BAD_REQUEST,
                "create without required key " + key.name(),
                () ->
                    driver.create(
                        new SrConfig(f.config().srUuid(), without, f.config().otherConfig()), 0));
        assertThat(e.getMessage()).as("message naming the missing key").contains(key.name());
      }
    }
    driver.create(f.config(), 0);
    expectError(
        SmError.SR_IN_USE,
        "create on storage that holds the SR",
        () -> driver.create(f.config(), 0));
    Sr sr = attachSr(f.config());
    assertThat(sr.scan()).as("scan of a new SR").isEmpty();
  }

  @Test
  void srDeleteRefusesSrWithVdisAndDeletesEmptySr() throws Exception {
    assumeCapabilities(Capability.SR_DELETE, Capability.VDI_DELETE);
    assumeVdiIo();
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk data = createWithData(sr, a, 1);
    detachSr(sr);
    expectError(
        SmError.SR_NOT_EMPTY,
        "delete of an SR with a VDI",
        () -> driver().delete(fixture().config()));
    sr = attachSr(fixture().config());
    assertContent(sr, a.location(), data, "VDI after refused SR delete");
    if (has(Capability.VDI_SNAPSHOT)) {
      // Leaves a base copy that only the garbage collector would remove (sm#583).
      VdiInfo s = snapshot(sr, a, SnapshotKind.DOUBLE, "s");
      sr.deleteVdi(s.location());
    }
    sr.deleteVdi(a.location());
    assertThat(sr.scan()).as("scan after deleting every VDI").isEmpty();
    detachSr(sr);
    driver().delete(fixture().config());
    if (has(Capability.SR_CREATE)) {
      expectError(
          SmError.SR_UNAVAILABLE,
          "attach of a deleted SR",
          () -> driver().attach(fixture().config()));
    }
    if (has(Capability.SR_PROBE)) {
      assertThat(driver().probe(fixture().config().deviceConfig()))
          .as("probe after delete")
          .noneMatch(p -> p.srUuid().equals(fixture().config().srUuid()));
    }
  }

  @Test
  void srProbeFindsTheSr() throws Exception {
    assumeCapabilities(Capability.SR_PROBE);
    SrFixture empty = newSrFixture();
    assertThat(driver().probe(empty.config().deviceConfig()))
        .as("probe of empty storage")
        .isEmpty();
    Sr sr = newSr();
    detachSr(sr);
    assertThat(driver().probe(fixture().config().deviceConfig()))
        .as("probe of storage holding one SR")
        .extracting(p -> p.srUuid())
        .containsExactly(fixture().config().srUuid());
  }

  @Test
  void srUpdateSeesChangesBehindTheDriversBack() throws Exception {
    assumeCapabilities(Capability.SR_UPDATE, Capability.VDI_CREATE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    VdiInfo b = createVdi(sr, 2L * MIB, "b");
    fixture().backdoor().copyVdiData(a.location(), UUID.randomUUID().toString());
    fixture().backdoor().removeVdiData(b.location());
    sr.update();
    assertThat(sr.stats().virtualAllocationBytes())
        .as("virtual allocation after update: VDI a and its copy")
        .isEqualTo(2 * a.virtualSizeBytes());
  }

  @Test
  void srUpdateChangesNothingWhenNothingChanged() throws Exception {
    assumeCapabilities(Capability.SR_UPDATE, Capability.VDI_CREATE);
    Sr sr = newSr();
    createVdi(sr, 4L * MIB, "a");
    createVdi(sr, 2L * MIB, "b");
    Map<String, String> before = managedSummary(sr);
    long allocation = sr.stats().virtualAllocationBytes();
    sr.update();
    assertThat(managedSummary(sr)).as("VDIs after update").isEqualTo(before);
    assertThat(sr.stats().virtualAllocationBytes())
        .as("allocation after update")
        .isEqualTo(allocation);
  }

  @Test
  void vdiCreateAndDelete() throws Exception {
    assumeCapabilities(Capability.VDI_CREATE);
    Sr sr = newSr();
    VdiMetadata meta = VdiMetadata.named("first");
    VdiInfo a = sr.createVdi(4L * MIB, meta);
    VdiInfo b = createVdi(sr, 6L * MIB, "second");
    assertThat(a.uuid()).as("uuid").isNotBlank().isNotEqualTo(b.uuid());
    assertThat(a.location()).as("location").isNotBlank().isNotEqualTo(b.location());
    assertThat(a.virtualSizeBytes()).as("virtual size").isGreaterThanOrEqualTo(4L * MIB);
    assertThat(a.readOnly()).as("readOnly of a new VDI").isFalse();
    assertThat(a.managed()).as("managed of a new VDI").isTrue();
    assertThat(a.cbtEnabled()).as("cbtEnabled of a new VDI").isFalse();
    assertThat(a.metadata()).as("metadata returned by create").isEqualTo(meta);
    assertThat(a.physicalUtilisationBytes()).as("physical utilisation").isNotNegative();
    VdiInfo scanned = scanned(sr, a.location());
    assertThat(scanned.uuid()).as("scanned uuid").isEqualTo(a.uuid());
    assertThat(scanned.virtualSizeBytes()).as("scanned size").isEqualTo(a.virtualSizeBytes());
    assertThat(scanned.readOnly()).as("scanned readOnly").isFalse();
    assertThat(scanned.managed()).as("scanned managed").isTrue();
    assertThat(locations(sr.scan()))
        .as("scan")
        .containsExactlyInAnyOrder(a.location(), b.location());

    Map<String, String> before = managedSummary(sr);
    expectError(
        SmError.VDI_SIZE,
        "createVdi of -512 bytes",
        () -> sr.createVdi(-512, VdiMetadata.named("negative")));
    expectError(
        SmError.VDI_SIZE,
        "createVdi of Long.MAX_VALUE bytes",
        () -> sr.createVdi(Long.MAX_VALUE, VdiMetadata.named("huge")));
    assertThat(managedSummary(sr)).as("VDIs after refused creates").isEqualTo(before);

    if (has(Capability.VDI_ATTACH) && has(Capability.VDI_ACTIVATE)) {
      VdiDevice device = open(sr, a.location(), true);
      new ShadowDisk(a.virtualSizeBytes()).assertMatches(device, "a new VDI (all zeros)");
      close(sr, a.location());
    }
    if (has(Capability.VDI_DELETE)) {
      sr.deleteVdi(a.location());
      assertThat(locations(sr.scan())).as("scan after delete").containsExactly(b.location());
      expectError(SmError.VDI_MISSING, "second delete of a VDI", () -> sr.deleteVdi(a.location()));
      assertThat(locations(sr.scan()))
          .as("scan after refused delete")
          .containsExactly(b.location());
    }
  }

  @Test
  void vdiAttachActivateWriteRead() throws Exception {
    assumeVdiIo();
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 8L * MIB, "a");
    VdiDevice device = open(sr, a.location(), true);
    assertThat(device.sizeBytes()).as("device size").isEqualTo(a.virtualSizeBytes());
    expectError(SmError.VDI_IN_USE, "second rw attach", () -> sr.attachVdi(a.location(), true));
    expectError(
        SmError.VDI_IN_USE,
        "ro attach of a rw-attached VDI",
        () -> sr.attachVdi(a.location(), false));
    ShadowDisk disk = new ShadowDisk(a.virtualSizeBytes());
    Random random = new Random(2);
    disk.writeRound(device, random, 0);
    disk.assertMatches(device, "after writes, before flush");

    // Buffers: a direct source with a non-zero position, a direct destination, a heap slice.
    byte[] data = new byte[3000];
    random.nextBytes(data);
    ByteBuffer direct = ByteBuffer.allocateDirect(3100);
    direct.position(100);
    direct.put(data);
    direct.position(100);
    device.write(direct, 3L * MIB - 1000);
    disk.record(3L * MIB - 1000, data);
    ByteBuffer into = ByteBuffer.allocateDirect(3000);
    device.read(into, 3L * MIB - 1000);
    byte[] back = new byte[3000];
    into.flip();
    into.get(back);
    assertThat(back).as("read into a direct buffer").isEqualTo(data);
    byte[] big = new byte[5000];
    device.read(ByteBuffer.wrap(big, 1000, 3000).slice(), 3L * MIB - 1000);
    assertThat(Arrays.copyOfRange(big, 1000, 4000)).as("read into a heap slice").isEqualTo(data);
    assertThat(ShadowDisk.isZero(big, 0, 1000) && ShadowDisk.isZero(big, 4000, 5000))
        .as("bytes outside the slice untouched")
        .isTrue();

    device.flush();
    close(sr, a.location());
    expectError(
        SmError.VDI_UNAVAILABLE,
        "read on a deactivated device",
        () -> device.read(ByteBuffer.allocate(512), 0));
    expectError(
        SmError.VDI_UNAVAILABLE,
        "write on a deactivated device",
        () -> device.write(ByteBuffer.allocate(512), 0));
    expectError(SmError.VDI_UNAVAILABLE, "flush on a deactivated device", device::flush);

    VdiDevice again = open(sr, a.location(), true);
    disk.assertMatches(again, "after deactivate, detach, attach, activate");
    close(sr, a.location());
    assertContent(sr, a.location(), disk, "read-only attach");
  }
}
