package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Network;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Task;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VIF;
import com.xensource.xenapi.VM;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Helpers of the XVA tests: VMs with disks holding data at scattered offsets (the rest holes),
 * export and import over HTTP as clients do, the import's task read back, and the sets of VMs and
 * VDIs to show that a refused import leaves nothing behind.
 */
abstract class XvaTestBase extends SdkTest {
  protected static final int MIB = 1024 * 1024;
  protected final HttpClient http = HttpClient.newHttpClient();

  protected String base() {
    return "http://127.0.0.1:" + url.getPort();
  }

  /** A disk image: random data in short runs at {@code offsets}, zeros elsewhere. */
  protected static byte[] image(int sizeBytes, long seed, long... offsets) {
    byte[] b = new byte[sizeBytes];
    Random r = new Random(seed);
    for (long off : offsets) {
      byte[] x = new byte[(int) Math.min(70_000, sizeBytes - off)];
      r.nextBytes(x);
      System.arraycopy(x, 0, b, (int) off, x.length);
    }
    return b;
  }

  /** Writes {@code data} into {@code vdi} through xapi's raw upload. */
  protected void upload(VDI vdi, byte[] data) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        base()
                            + "/import_raw_vdi?format=raw&session_id="
                            + c.getSessionReference()
                            + "&vdi="
                            + vdi.toWireString()))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(data))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  protected byte[] download(VDI vdi) throws Exception {
    HttpResponse<byte[]> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        base()
                            + "/export_raw_vdi?format=raw&session_id="
                            + c.getSessionReference()
                            + "&vdi="
                            + vdi.toWireString()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** A halted VM with a VIF and one disk per image, at userdevices 0, 1...; other_config set. */
  protected VM vmWithDisks(String name, byte[]... images) throws Exception {
    VM vm = newVm(name, 2, 256L * MIB);
    vm.setOtherConfig(c, Map.of("xva-test", name, "folder", "/backups"));
    for (int i = 0; i < images.length; i++) {
      VDI d = newVdi(name + "-disk" + i, images[i].length);
      assertThat(d.getVirtualSize(c)).isEqualTo(images[i].length);
      upload(d, images[i]);
      attachDisk(vm, d, Integer.toString(i));
    }
    VIF.Record v = new VIF.Record();
    v.VM = vm;
    v.network = Network.getAll(c).iterator().next();
    v.device = "0";
    v.MAC = "";
    v.MTU = 1500L;
    v.otherConfig = Map.of();
    v.qosAlgorithmType = "";
    v.qosAlgorithmParams = Map.of();
    VIF.create(c, v);
    return vm;
  }

  protected HttpResponse<byte[]> exportXva(String query) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create(base() + "/export?session_id=" + c.getSessionReference() + "&" + query))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  protected byte[] exportOk(String query) throws Exception {
    HttpResponse<byte[]> r = exportXva(query);
    assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    return r.body();
  }

  /** PUT /import into the default SR with a task of the test's; the task when the answer ends. */
  protected Task importXva(byte[] xva, String more) throws Exception {
    Task task = Task.create(c, "xva import", "");
    SR sr = defaultSr();
    HttpResponse<String> r;
    try {
      r =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          base()
                              + "/import?session_id="
                              + c.getSessionReference()
                              + "&sr_id="
                              + sr.toWireString()
                              + "&task_id="
                              + task.toWireString()
                              + more))
                  .PUT(HttpRequest.BodyPublishers.ofByteArray(xva))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      // As xapi, a refused import closes the connection at once, maybe while the client is still
      // sending; the task, failed before the close, has the outcome.
      assertThat(task.getStatus(c))
          .as("connection closed: %s", e)
          .isEqualTo(Types.TaskStatusType.FAILURE);
      return task;
    }
    assertThat(r.statusCode()).as("xapi answers 200 before reading: %s", r.body()).isEqualTo(200);
    assertThat(task.getStatus(c)).isNotEqualTo(Types.TaskStatusType.PENDING);
    return task;
  }

  /** The VMs of a successful import's task result (an XML-RPC array of references). */
  protected List<VM> importedVms(Task task) throws Exception {
    assertThat(task.getStatus(c))
        .as("%s", task.getErrorInfo(c))
        .isEqualTo(Types.TaskStatusType.SUCCESS);
    String result = task.getResult(c);
    assertThat(result).startsWith("<value><array><data>");
    Matcher m = Pattern.compile("<value>(OpaqueRef:[^<]+)</value>").matcher(result);
    List<VM> out = new java.util.ArrayList<>();
    while (m.find()) {
      out.add(com.xensource.xenapi.Types.toVM(m.group(1)));
    }
    return out;
  }

  /** The VDIs of {@code vm} by userdevice. */
  protected Map<String, VDI> disks(VM vm) throws Exception {
    Map<String, VDI> out = new java.util.TreeMap<>();
    for (VBD b : vm.getVBDs(c)) {
      if (b.getType(c) == Types.VbdType.DISK) {
        out.put(b.getUserdevice(c), b.getVDI(c));
      }
    }
    return out;
  }

  /** Every VM and VDI record, by UUID: what a refused import must leave unchanged. */
  protected Set<String> everything() throws Exception {
    Set<String> s = new HashSet<>();
    for (VM vm : VM.getAll(c)) {
      s.add("VM " + vm.getUuid(c));
    }
    for (VDI v : VDI.getAll(c)) {
      s.add("VDI " + v.getUuid(c));
    }
    for (VBD v : VBD.getAll(c)) {
      s.add("VBD " + v.getUuid(c));
    }
    for (VIF v : VIF.getAll(c)) {
      s.add("VIF " + v.getUuid(c));
    }
    for (Network n : Network.getAll(c)) {
      s.add("network " + n.getUuid(c));
    }
    return s;
  }

  protected static String run(List<String> cmd, byte[] stdin) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    if (stdin != null) {
      try (var o = p.getOutputStream()) {
        o.write(stdin);
      }
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
    return out;
  }
}
