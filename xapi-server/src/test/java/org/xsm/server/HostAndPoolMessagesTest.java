package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Host;
import com.xensource.xenapi.HostMetrics;
import com.xensource.xenapi.Network;
import com.xensource.xenapi.PIF;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SM;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VIF;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The pool, host, network, PIF, SR and SM messages and records, through the Java SDK: real
 * behaviour where xsm has the thing, xapi's errors where it has not.
 */
@QuarkusTest
class HostAndPoolMessagesTest extends SdkTest {
  private static void failsWith(ThrowingCallable call, String code) {
    assertThatThrownBy(call)
        .isInstanceOf(Types.XenAPIException.class)
        .satisfies(e -> assertThat(code((Types.XenAPIException) e)).isEqualTo(code));
  }

  /**
   * The error code: the SDK maps the codes it knows to their own classes (HostNotDisabled), which
   * carry no description; the others keep the description.
   */
  static String code(Types.XenAPIException e) {
    if (e.errorDescription != null) {
      return e.errorDescription[0];
    }
    return e.getClass().getSimpleName().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase();
  }

  private PIF managementPif() throws Exception {
    for (var e : PIF.getAllRecords(c).entrySet()) {
      if (e.getValue().management) {
        return e.getKey();
      }
    }
    throw new AssertionError("no management PIF");
  }

  private Host host() throws Exception {
    return Host.getAll(c).iterator().next();
  }

  /** A self-signed certificate made by the JDK's keytool, as PEM. */
  private static String selfSignedPem(Path dir) throws Exception {
    Path ks = dir.resolve("ks.p12");
    run(
        dir,
        "keytool",
        "-genkeypair",
        "-alias",
        "ca",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-dname",
        "CN=xsm test CA",
        "-validity",
        "2",
        "-storetype",
        "PKCS12",
        "-keystore",
        ks.toString(),
        "-storepass",
        "changeit");
    Path pem = dir.resolve("ca.pem");
    run(
        dir,
        "keytool",
        "-exportcert",
        "-rfc",
        "-alias",
        "ca",
        "-keystore",
        ks.toString(),
        "-storepass",
        "changeit",
        "-file",
        pem.toString());
    return Files.readString(pem);
  }

  private static void run(Path dir, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).inheritIO().start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd)).isZero();
  }

  @Test
  void hostRecordsDescribeTheMachine() throws Exception {
    Host.Record h = host().getRecord(c);
    assertThat(h.cpuInfo)
        .containsEntry("cpu_count", Integer.toString(Runtime.getRuntime().availableProcessors()));
    assertThat(h.licenseParams).containsKey("restrict_wlb");
    assertThat(h.chipsetInfo).containsKey("iommu");
    assertThat(h.capabilities).isNotEmpty();
    HostMetrics.Record m = h.metrics.getRecord(c);
    assertThat(m.live).isTrue();
    assertThat(m.memoryTotal).isPositive();
    VM.Record dom0 = h.controlDomain.getRecord(c);
    assertThat(dom0.isControlDomain).isTrue();
    assertThat(dom0.powerState).isEqualTo(Types.VmPowerState.RUNNING);
    assertThat(dom0.residentOn).isEqualTo(host());
    PIF mgmt = managementPif();
    PIF.Record p = mgmt.getRecord(c);
    assertThat(p.management).isTrue();
    assertThat(p.host).isEqualTo(host());
    assertThat(p.network.getPIFs(c)).contains(mgmt);
    assertThat(Pool.getAll(c).iterator().next().getRestrictions(c)).containsKey("restrict_wlb");
  }

  @Test
  void oneSmRecordPerInstalledDriver() throws Exception {
    Set<String> types = Set.copyOf(SR.getSupportedTypes(c));
    assertThat(types).contains("ext", "nfs", "iscsi");
    Map<SM, SM.Record> sms = SM.getAllRecords(c);
    assertThat(sms.values().stream().map(r -> r.type)).containsExactlyInAnyOrderElementsOf(types);
    SM.Record ext = sms.values().stream().filter(r -> r.type.equals("ext")).findFirst().get();
    assertThat(ext.capabilities).contains("VDI_SNAPSHOT", "VDI_CLONE");
    assertThat(ext.configuration).containsKey("path");
    assertThat(ext.features).containsKey("VDI_SNAPSHOT");
  }

  @Test
  void trustedCertificatesAreInstalledListedAndRemoved() throws Exception {
    Path dir = Files.createTempDirectory("xsm-ca");
    String pem = selfSignedPem(dir);
    Pool.certificateInstall(c, "test-ca.pem", pem);
    assertThat(Pool.certificateList(c)).contains("test-ca.pem");
    failsWith(() -> Pool.certificateInstall(c, "test-ca.pem", pem), "CERTIFICATE_ALREADY_EXISTS");
    failsWith(
        () -> Pool.certificateInstall(c, "bad.pem", "not a certificate"), "CERTIFICATE_CORRUPT");
    failsWith(() -> Pool.certificateInstall(c, "../escape", pem), "CERTIFICATE_NAME_INVALID");
    Pool.certificateUninstall(c, "test-ca.pem");
    assertThat(Pool.certificateList(c)).doesNotContain("test-ca.pem", "bad.pem");
    failsWith(() -> Pool.certificateUninstall(c, "test-ca.pem"), "CERTIFICATE_DOES_NOT_EXIST");
  }

  @Test
  void hostStateChangesWithXapisChecks() throws Exception {
    Host h = host();
    failsWith(() -> h.shutdown(c), "HOST_NOT_DISABLED");
    h.disable(c);
    assertThat(h.getEnabled(c)).isFalse();
    h.enable(c);
    assertThat(h.getEnabled(c)).isTrue();
    failsWith(() -> h.destroy(c), "HOST_IS_LIVE");
    failsWith(
        () -> h.callPlugin(c, "updater.py", "check_update", Map.of()), "XENAPI_MISSING_PLUGIN");
    assertThat(h.disableDisplay(c)).isEqualTo(Types.HostDisplay.DISABLE_ON_REBOOT);
    assertThat(h.enableDisplay(c)).isEqualTo(Types.HostDisplay.ENABLED);
    failsWith(() -> h.applyEdition(c, "enterprise-per-socket", false), "INVALID_EDITION");
    h.applyEdition(c, "xcp-ng", false);
    assertThat(Pool.getAll(c).iterator().next().getLicenseState(c))
        .containsEntry("edition", "xcp-ng");
    assertThat(h.computeFreeMemory(c)).isPositive();
    assertThat(h.getVmsWhichPreventEvacuation(c)).isEmpty();
    failsWith(() -> h.setHostnameLive(c, "bad host name!"), "HOST_NAME_INVALID");
  }

  @Test
  void haWlbAndExternalAuthAnswerAsXapiDoesWithoutThem() throws Exception {
    failsWith(() -> Pool.enableHa(c, Set.of(), Map.of()), "HA_NOT_INSTALLED");
    failsWith(() -> Pool.disableHa(c), "HA_NOT_ENABLED");
    Pool pool = Pool.getAll(c).iterator().next();
    failsWith(() -> Pool.retrieveWlbConfiguration(c), "LICENCE_RESTRICTION");
    failsWith(() -> pool.enableExternalAuth(c, Map.of(), "example.org", "AD"), "AUTH_UNKNOWN_TYPE");
    failsWith(
        () -> defaultSr().assertCanHostHaStatefile(c), "HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED");
    assertThat(Pool.haComputeMaxHostFailuresToTolerate(c)).isZero();
  }

  @Test
  void networksVlansAndPifs() throws Exception {
    Host h = host();
    PIF mgmt = managementPif();
    failsWith(() -> mgmt.unplug(c), "PIF_IS_MANAGEMENT_INTERFACE");
    failsWith(() -> mgmt.destroy(c), "PIF_IS_PHYSICAL");
    Network.Record nr = new Network.Record();
    nr.nameLabel = "vlan 42";
    nr.nameDescription = "";
    nr.MTU = 1500L;
    nr.otherConfig = Map.of();
    nr.tags = Set.of();
    Network net = Network.create(c, nr);
    PIF vlan = PIF.createVLAN(c, mgmt.getDevice(c), net, h, 42L);
    assertThat(vlan.getVLAN(c)).isEqualTo(42L);
    assertThat(vlan.getPhysical(c)).isFalse();
    assertThat(net.getPIFs(c)).containsExactly(vlan);
    failsWith(() -> PIF.createVLAN(c, mgmt.getDevice(c), net, h, 42L), "PIF_VLAN_EXISTS");
    failsWith(() -> PIF.createVLAN(c, mgmt.getDevice(c), net, h, 5000L), "VLAN_TAG_INVALID");
    failsWith(() -> net.destroy(c), "NETWORK_CONTAINS_PIF");
    vlan.reconfigureIp(
        c, Types.IpConfigurationMode.STATIC, "10.0.0.2", "255.0.0.0", "10.0.0.1", "");
    assertThat(vlan.getIP(c)).isEqualTo("10.0.0.2");
    vlan.destroy(c);
    net.addPurpose(c, Types.NetworkPurpose.NBD);
    failsWith(
        () -> net.addPurpose(c, Types.NetworkPurpose.INSECURE_NBD),
        "NETWORK_INCOMPATIBLE_PURPOSES");
    net.removePurpose(c, Types.NetworkPurpose.NBD);
    net.destroy(c);
    assertThat(Network.getAll(c)).doesNotContain(net);
  }

  @Test
  void vdiSettersAndEveryVmHasMetrics() throws Exception {
    VDI vdi = newVdi("setters", 8L << 20);
    vdi.setReadOnly(c, true);
    vdi.setSharable(c, true);
    assertThat(vdi.getReadOnly(c)).isTrue();
    assertThat(vdi.getSharable(c)).isTrue();
    failsWith(() -> vdi.setOnBoot(c, Types.OnBoot.RESET), "SR_OPERATION_NOT_SUPPORTED");
    vdi.setOnBoot(c, Types.OnBoot.PERSIST);
    failsWith(() -> vdi.openDatabase(c), "VDI_INCOMPATIBLE_TYPE");
    failsWith(() -> vdi.poolMigrate(c, defaultSr(), Map.of()), "VDI_NEEDS_VM_FOR_MIGRATE");
    vdi.destroy(c);
    for (VM.Record r : VM.getAllRecords(c).values()) {
      assertThat(r.metrics.getRecord(c).uuid).isNotEmpty();
    }
    assertThat(List.copyOf(VIF.getAll(c))).isNotNull();
  }
}
