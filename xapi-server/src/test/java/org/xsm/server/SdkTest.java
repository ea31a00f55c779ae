package org.xsm.server;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.common.http.TestHTTPResource;
import java.net.URL;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The base of tests that drive the server as its users do, through the XenServer Java SDK: each
 * test runs in a session of root's, ended afterwards.
 */
public abstract class SdkTest {
  @TestHTTPResource("/")
  protected URL url;

  /** Root's connection for the running test. */
  protected Connection c;

  @BeforeEach
  void loginAsRoot() throws Exception {
    c = new Connection(url);
    Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
  }

  @AfterEach
  void logoutRoot() throws Exception {
    Session.logout(c);
  }

  /** The pool's default SR: the local EXT SR the server made at its first start. */
  protected SR defaultSr() throws Exception {
    return Pool.getAll(c).iterator().next().getDefaultSR(c);
  }

  /** A new user disk of {@code sizeBytes} on the default SR. */
  protected VDI newVdi(String name, long sizeBytes) throws Exception {
    return newVdi(c, defaultSr(), name, sizeBytes, Map.of());
  }

  /** A new halted VM (not a template) with {@code vcpus} and {@code memoryBytes}, no devices. */
  protected VM newVm(String name, long vcpus, long memoryBytes) throws Exception {
    return newVm(c, name, vcpus, memoryBytes);
  }

  /** A new halted 256 MiB, one-vCPU VM with no devices, through {@code c}. */
  public static VM newVmOn(Connection c, String name) throws Exception {
    return newVm(c, name, 1, 256L * 1024 * 1024);
  }

  private static VM newVm(Connection c, String name, long vcpus, long memoryBytes)
      throws Exception {
    VM.Record r = new VM.Record();
    r.nameLabel = name;
    r.nameDescription = "";
    r.memoryStaticMax = memoryBytes;
    r.memoryDynamicMax = memoryBytes;
    r.memoryDynamicMin = memoryBytes;
    r.memoryStaticMin = memoryBytes;
    r.VCPUsMax = vcpus;
    r.VCPUsAtStartup = vcpus;
    r.isATemplate = false;
    r.otherConfig = Map.of();
    return VM.create(c, r);
  }

  /** Attaches {@code disk} to {@code vm} as a read-write, bootable disk at {@code userdevice}. */
  protected VBD attachDisk(VM vm, VDI disk, String userdevice) throws Exception {
    return attachDisk(c, vm, disk, userdevice);
  }

  /** {@link #attachDisk(VM, VDI, String)} through {@code c}. */
  public static VBD attachDisk(Connection c, VM vm, VDI disk, String userdevice) throws Exception {
    VBD.Record b = new VBD.Record();
    b.VM = vm;
    b.VDI = disk;
    b.userdevice = userdevice;
    b.mode = Types.VbdMode.RW;
    b.type = Types.VbdType.DISK;
    b.bootable = true;
    b.empty = false;
    b.otherConfig = Map.of();
    b.qosAlgorithmParams = Map.of();
    b.qosAlgorithmType = "";
    return VBD.create(c, b);
  }

  /** A new user disk, made with {@code VDI.create} and a full record, as SDK users make one. */
  public static VDI newVdi(
      Connection c, SR sr, String name, long sizeBytes, Map<String, String> otherConfig)
      throws Exception {
    VDI.Record r = new VDI.Record();
    r.nameLabel = name;
    r.nameDescription = "";
    r.SR = sr;
    r.virtualSize = sizeBytes;
    r.type = Types.VdiType.USER;
    r.sharable = false;
    r.readOnly = false;
    r.otherConfig = otherConfig;
    r.xenstoreData = Map.of();
    r.smConfig = Map.of();
    r.tags = Set.of();
    return VDI.create(c, r);
  }
}
