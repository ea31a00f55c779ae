package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Network;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VIF;
import com.xensource.xenapi.VM;
import com.xensource.xenapi.XenAPIObject;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.xmlrpc.client.XmlRpcClient;
import org.apache.xmlrpc.client.XmlRpcClientConfigImpl;

/**
 * The base of the VM behaviour tests: VMs from the stock templates, VBD records as SDK users fill
 * them in, and a call's XenAPI error read straight off the wire (the SDK's typed exceptions drop
 * the parameters).
 */
abstract class VmTestBase extends SdkTest {
  protected static final long MIB = 1024L * 1024;

  /** The error code and parameters with which the server fails {@code method} (it must fail). */
  protected List<String> fails(String method, Object... params) throws Exception {
    XmlRpcClientConfigImpl cfg = new XmlRpcClientConfigImpl();
    cfg.setServerURL(url);
    XmlRpcClient x = new XmlRpcClient();
    x.setConfig(cfg);
    Object[] all = new Object[params.length + 1];
    all[0] = c.getSessionReference();
    for (int i = 0; i < params.length; i++) {
      Object p = params[i];
      all[i + 1] =
          p instanceof XenAPIObject o ? o.toWireString() : p instanceof Long l ? l.toString() : p;
    }
    Map<?, ?> r = (Map<?, ?>) x.execute(method, all);
    assertThat(r.get("Status")).as("%s answered %s", method, r).isEqualTo("Failure");
    return Arrays.stream((Object[]) r.get("ErrorDescription")).map(String::valueOf).toList();
  }

  /** A VBD record as SDK users fill one in. */
  protected static VBD.Record vbd(
      VM vm, VDI vdi, String userdevice, Types.VbdType type, Types.VbdMode mode) {
    VBD.Record b = new VBD.Record();
    b.VM = vm;
    b.VDI = vdi;
    b.userdevice = userdevice;
    b.mode = mode;
    b.type = type;
    b.bootable = false;
    b.empty = false;
    b.otherConfig = Map.of();
    b.qosAlgorithmParams = Map.of();
    b.qosAlgorithmType = "";
    return b;
  }

  protected VM template(String name) throws Exception {
    Set<VM> t = VM.getByNameLabel(c, name);
    assertThat(t).as("template %s", name).hasSize(1);
    return t.iterator().next();
  }

  /** A new halted VM from "Other install media" (no disks), with one VIF. */
  protected VM newVm(String name) throws Exception {
    VM vm = template("Other install media").createClone(c, name);
    vm.provision(c);
    newVif(vm, "0");
    return vm;
  }

  /** A new VIF of {@code vm} on the first network, its MAC chosen by the server. */
  protected VIF newVif(VM vm, String device) throws Exception {
    VIF.Record v = new VIF.Record();
    v.VM = vm;
    v.network = Network.getAll(c).iterator().next();
    v.device = device;
    v.MAC = "";
    v.MTU = 1500L;
    v.otherConfig = Map.of();
    v.qosAlgorithmType = "";
    v.qosAlgorithmParams = Map.of();
    return VIF.create(c, v);
  }
}
