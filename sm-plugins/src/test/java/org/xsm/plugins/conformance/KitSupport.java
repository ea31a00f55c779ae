package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.xsm.api.Capability;
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

/**
 * The machinery under the conformance tests: making SRs from the backend's fixtures, attaching and
 * activating VDIs, and releasing whatever a test left attached. Uses only the SPI.
 */
@Timeout(120)
public abstract class KitSupport {
  static final int MIB = ShadowDisk.MIB;

  /**
   * A new SR's ingredients: the driver, a configuration naming fresh, empty storage that no other
   * call returned, and a backdoor to that storage. Called once or more per test.
   */
  protected abstract SrFixture newSrFixture() throws Exception;

  /**
   * Whether a DOUBLE snapshot leaves a hidden base copy, as VHD trees do. A backend whose storage
   * snapshots natively (an array's LUN snapshots) returns false: a snapshot then adds only itself.
   */
  protected boolean snapshotsLeaveBaseCopies() {
    return true;
  }

  /**
   * The chain depth at which the backend refuses snapshots and clones ({@code
   * SNAPSHOT_CHAIN_TOO_LONG}), or 0 if it has no chains and so no limit.
   */
  protected int maxChainDepth() {
    return SnapshotConformance.MAX_CHAIN_DEPTH;
  }

  private final List<Attached> attached = new ArrayList<>();
  private final List<Sr> attachedSrs = new ArrayList<>();
  private SrFixture fixture;

  /** A VDI this test attached and has not detached yet. */
  private record Attached(Sr sr, String location) {}

  /** The fixture of the SR made by the last {@link #newSr()} (the test's main SR). */
  protected final SrFixture fixture() {
    if (fixture == null) {
      throw new IllegalStateException("no SR made yet");
    }
    return fixture;
  }

  /** The driver under test (from a fixture made for the purpose if none was made yet). */
  protected final SmDriver driver() throws Exception {
    if (fixture == null) {
      fixture = newSrFixture();
    }
    return fixture.driver();
  }

  protected final DriverInfo info() throws Exception {
    return driver().info();
  }

  protected final boolean has(Capability capability) throws Exception {
    return info().has(capability);
  }

  /** Skips the test unless the driver advertises every one of {@code capabilities}. */
  protected final void assumeCapabilities(Capability... capabilities) throws Exception {
    for (Capability c : capabilities) {
      assumeTrue(has(c), "driver does not advertise " + c);
    }
  }

  /** The usual capabilities for a test that writes and reads VDIs. */
  protected final void assumeVdiIo() throws Exception {
    assumeCapabilities(
        Capability.VDI_CREATE,
        Capability.VDI_ATTACH,
        Capability.VDI_ACTIVATE,
        Capability.VDI_DEACTIVATE,
        Capability.VDI_DETACH);
  }

  /** A new fixture, which becomes the test's main one. */
  protected final SrFixture newFixture() throws Exception {
    fixture = newSrFixture();
    return fixture;
  }

  /** Makes a new SR on fresh storage (creating it if the driver can) and attaches it. */
  protected final Sr newSr() throws Exception {
    SrFixture f = newFixture();
    if (f.driver().info().has(Capability.SR_CREATE)) {
      f.driver().create(f.config(), 0);
    }
    return attachSr(f.config());
  }

  protected final Sr attachSr(SrConfig config) throws Exception {
    Sr sr = driver().attach(config);
    synchronized (attached) {
      attachedSrs.add(sr);
    }
    assertThat(sr.uuid()).as("uuid of the attached SR").isEqualTo(config.srUuid());
    return sr;
  }

  /** Detaches an SR attached with {@link #attachSr} or {@link #newSr}. */
  protected final void detachSr(Sr sr) throws Exception {
    sr.detach();
    synchronized (attached) {
      attachedSrs.remove(sr);
    }
  }

  /** Detaches the SR and attaches it again, as a host restart would. */
  protected final Sr reattach(Sr sr) throws Exception {
    detachSr(sr);
    return attachSr(fixture().config());
  }

  /** Attaches and activates a VDI; the test releases it with {@link #close} or at its end. */
  protected final VdiDevice open(Sr sr, String location, boolean writable) throws Exception {
    sr.attachVdi(location, writable);
    synchronized (attached) {
      attached.add(new Attached(sr, location));
    }
    VdiDevice device = sr.activateVdi(location);
    assertThat(device.readOnly())
        .as("readOnly() of the device of %s attached %s", location, writable ? "rw" : "ro")
        .isEqualTo(!writable);
    return device;
  }

  /** Deactivates and detaches a VDI opened with {@link #open}. */
  protected final void close(Sr sr, String location) throws Exception {
    sr.deactivateVdi(location);
    sr.detachVdi(location);
    synchronized (attached) {
      attached.remove(new Attached(sr, location));
    }
  }

  /** Asserts that a VDI holds exactly {@code expected}, reading it through a read-only attach. */
  protected final void assertContent(Sr sr, String location, ShadowDisk expected, String what)
      throws Exception {
    VdiDevice device = open(sr, location, false);
    expected.assertMatches(device, what + " (" + location + ", read-only)");
    close(sr, location);
  }

  /** Creates a VDI, fills it with a round of patterns, and leaves it detached. */
  protected final ShadowDisk createWithData(Sr sr, VdiInfo vdi, long seed) throws Exception {
    ShadowDisk disk = new ShadowDisk(vdi.virtualSizeBytes());
    VdiDevice device = open(sr, vdi.location(), true);
    disk.writeRound(device, new Random(seed), 0);
    device.flush();
    close(sr, vdi.location());
    return disk;
  }

  protected final VdiInfo createVdi(Sr sr, long sizeBytes, String name) throws Exception {
    VdiInfo vdi = sr.createVdi(sizeBytes, VdiMetadata.named(name));
    assertThat(vdi.virtualSizeBytes())
        .as("virtual size of new VDI %s asked for %d bytes", name, sizeBytes)
        .isGreaterThanOrEqualTo(sizeBytes);
    return vdi;
  }

  protected static VdiMetadata snapshotMetadata(VdiInfo source, String name) {
    return new VdiMetadata(
        name, "", "user", true, source.uuid(), Instant.now().truncatedTo(ChronoUnit.SECONDS));
  }

  protected static VdiInfo snapshot(Sr sr, VdiInfo source, SnapshotKind kind, String name)
      throws SmException {
    return sr.snapshot(source.location(), kind, snapshotMetadata(source, name));
  }

  /** The scan entry for a location; fails if there is none. */
  protected static VdiInfo scanned(Sr sr, String location) throws SmException {
    return find(sr.scan(), location)
        .orElseThrow(() -> new AssertionError("scan does not list VDI " + location));
  }

  protected static Optional<VdiInfo> find(List<VdiInfo> scan, String location) {
    return scan.stream().filter(v -> v.location().equals(location)).findFirst();
  }

  protected static Set<String> locations(List<VdiInfo> scan) {
    return scan.stream().map(VdiInfo::location).collect(Collectors.toSet());
  }

  /**
   * What a scan says of the managed VDIs that should not change when nothing happens: identity,
   * size, flags and metadata (not physical utilisation, which a garbage collector may change).
   */
  protected static Map<String, String> managedSummary(Sr sr) throws SmException {
    return sr.scan().stream()
        .filter(VdiInfo::managed)
        .collect(Collectors.toMap(VdiInfo::location, KitSupport::summaryOf));
  }

  /** A VDI's identity, size, flags and metadata: what must not change when nothing happens. */
  protected static String summaryOf(VdiInfo v) {
    return v.uuid()
        + " size="
        + v.virtualSizeBytes()
        + " ro="
        + v.readOnly()
        + " cbt="
        + v.cbtEnabled()
        + " "
        + v.metadata();
  }

  protected static String randomLocation() {
    return UUID.randomUUID().toString();
  }

  /** An SPI call that is expected to fail. */
  @FunctionalInterface
  protected interface SmCall {
    void run() throws Exception;
  }

  /**
   * Runs {@code call}, asserting that it fails with an {@link SmException} of code {@code error}.
   */
  protected static SmException expectError(SmError error, String what, SmCall call) {
    try {
      call.run();
    } catch (SmException e) {
      if (e.error() != error) {
        throw new AssertionError(
            what + ": expected " + error + " (" + error.xenApiName() + ") but got " + e, e);
      }
      assertThat(e.getMessage()).as("message of %s from %s", error, what).isNotBlank();
      return e;
    } catch (Exception | AssertionError e) {
      throw new AssertionError(what + ": expected SmException " + error + " but got " + e, e);
    }
    return fail(what + ": expected " + error + " but it succeeded");
  }

  /** Runs {@code call}, asserting that it fails with an {@link SmException}, whatever its code. */
  protected static SmException expectSomeError(String what, SmCall call) {
    try {
      call.run();
    } catch (SmException e) {
      return e;
    } catch (Exception | AssertionError e) {
      throw new AssertionError(what + ": expected an SmException but got " + e, e);
    }
    return fail(what + ": expected an SmException but it succeeded");
  }

  /** Releases whatever the test left attached, so its storage can be removed. */
  @AfterEach
  final void releaseAttached() throws Exception {
    List<Attached> left;
    List<Sr> srs;
    synchronized (attached) {
      left = new ArrayList<>(attached);
      attached.clear();
      srs = new ArrayList<>(attachedSrs);
      attachedSrs.clear();
    }
    List<Exception> failures = new ArrayList<>();
    for (Attached a : left) {
      try {
        a.sr().detachVdi(a.location());
      } catch (SmException e) {
        failures.add(e);
      }
    }
    for (Sr sr : srs) {
      try {
        sr.detach();
      } catch (SmException e) {
        failures.add(e);
      }
    }
    if (!failures.isEmpty()) {
      AssertionError error =
          new AssertionError("releasing what the test left attached failed: " + failures);
      failures.forEach(error::addSuppressed);
      throw error;
    }
  }
}
