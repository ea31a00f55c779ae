package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Task;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * XVA export and import (xapi's full-VM format) of a VM with two disks holding data at scattered
 * offsets: the archive is checked by Python's tarfile and the system's libxxhash, then imported
 * back, plain, gzip and zstd; a snapshot exports as a template; VM.import fetches an export by URL.
 */
@QuarkusTest
class XvaTest extends XvaTestBase {
  @TempDir Path tmp;

  private final byte[] diskA = image(6 * MIB, 1, 0, 3L * MIB + 12_345);
  private final byte[] diskB =
      image(10 * MIB, 2, 2L * MIB + 7, 7L * MIB + 512 * 1024, 10L * MIB - 100);

  /** Python's listing of the archive (checksums verified by the script): name and size. */
  private List<String> listing(byte[] xva) throws Exception {
    Path f = Files.createTempFile(tmp, "export", ".xva");
    Files.write(f, xva);
    Path script = Path.of("src/test/resources/xva/check_xva.py");
    return run(List.of("python3", script.toString(), f.toString()), null).lines().toList();
  }

  /** The chunk numbers in the archive, per disk directory. */
  private static Map<String, List<Integer>> chunks(List<String> listing) {
    Map<String, List<Integer>> out = new TreeMap<>();
    for (String l : listing) {
      String name = l.split(" ")[0];
      if (name.matches("Ref:\\d+/\\d{8}")) {
        String[] p = name.split("/");
        out.computeIfAbsent(p[0], k -> new ArrayList<>()).add(Integer.parseInt(p[1]));
      }
    }
    return out;
  }

  private void assertSameVm(VM imported, VM original, byte[]... images) throws Exception {
    assertThat(imported).isNotEqualTo(original);
    VM.Record r = imported.getRecord(c);
    VM.Record o = original.getRecord(c);
    assertThat(r.uuid).isNotEqualTo(o.uuid);
    assertThat(r.nameLabel).isEqualTo(o.nameLabel);
    assertThat(r.VCPUsMax).isEqualTo(o.VCPUsMax);
    assertThat(r.VCPUsAtStartup).isEqualTo(o.VCPUsAtStartup);
    assertThat(r.memoryStaticMax).isEqualTo(o.memoryStaticMax);
    assertThat(r.memoryDynamicMin).isEqualTo(o.memoryDynamicMin);
    assertThat(r.otherConfig).containsEntry("xva-test", o.otherConfig.get("xva-test"));
    assertThat(r.otherConfig).containsEntry("folder", "/backups").containsKey("import_task");
    assertThat(r.otherConfig).doesNotContainKey("xsm_import_incomplete");
    assertThat(r.powerState).isEqualTo(Types.VmPowerState.HALTED);
    assertThat(r.currentOperations).isEmpty();
    assertThat(r.VIFs).hasSize(1);
    assertThat(r.VIFs.iterator().next().getMAC(c))
        .as("a new VM gets new MACs")
        .isNotEqualTo(o.VIFs.iterator().next().getMAC(c));
    Map<String, VDI> disks = disks(imported);
    assertThat(disks.keySet()).isEqualTo(disks(original).keySet());
    for (int i = 0; i < images.length; i++) {
      VDI d = disks.get(Integer.toString(i));
      assertThat(d.getSR(c)).isEqualTo(defaultSr());
      assertThat(d.getNameLabel(c))
          .isEqualTo(disks(original).get(Integer.toString(i)).getNameLabel(c));
      assertThat(download(d)).as("disk %d byte for byte", i).isEqualTo(images[i]);
    }
  }

  @Test
  void twoDiskVmExportsAsXapiDoesAndImportsBack() throws Exception {
    VM vm = vmWithDisks("xva-plain", diskA, diskB);
    com.xensource.xenapi.VBD.Record cd =
        VmTestBase.vbd(vm, Types.toVDI("OpaqueRef:NULL"), "3", Types.VbdType.CD, Types.VbdMode.RO);
    cd.empty = true;
    com.xensource.xenapi.VBD.create(c, cd);
    byte[] xva = exportOk("uuid=" + vm.getUuid(c));
    List<String> names = listing(xva);
    Path file = tmp.resolve("plain.xva");
    Files.write(file, xva);
    assertThat(run(List.of("tar", "tf", file.toString()), null).lines().findFirst())
        .as("GNU tar reads it too")
        .contains("ova.xml");
    assertThat(names.get(0)).as("ova.xml comes first").startsWith("ova.xml ");
    assertThat(chunks(names).values())
        .as("chunks with data, and always the first and the last")
        .containsExactlyInAnyOrder(List.of(0, 3, 5), List.of(0, 2, 7, 9));
    assertThat(names)
        .allMatch(l -> l.startsWith("ova.xml") || l.matches("Ref:\\d+/\\d{8}(\\.xxhash)? \\d+"));
    String ova = new String(xva, 512, 200_000, java.nio.charset.StandardCharsets.UTF_8);
    assertThat(ova).startsWith("<value><struct><member><name>version</name>");
    assertThat(ova)
        .contains("<name>class</name><value>VM</value>")
        .contains("<name>export_vsn</name><value><i4>2</i4>");
    assertThat(ova).as("no internal reference leaks out").doesNotContain(vm.toWireString());

    Task t = importXva(xva, "");
    List<VM> vms = importedVms(t);
    assertThat(vms).hasSize(1);
    assertSameVm(vms.get(0), vm, diskA, diskB);
    List<com.xensource.xenapi.VBD.Record> cds = new ArrayList<>();
    for (com.xensource.xenapi.VBD b : vms.get(0).getVBDs(c)) {
      if (b.getType(c) == Types.VbdType.CD) {
        cds.add(b.getRecord(c));
      }
    }
    assertThat(cds).hasSize(1);
    assertThat(cds.get(0).userdevice).isEqualTo("3");
    assertThat(cds.get(0).empty).isTrue();
    assertThat(t.getProgress(c)).isEqualTo(1.0);
  }

  @Test
  void gzipRoundTrip() throws Exception {
    VM vm = vmWithDisks("xva-gzip", diskA, diskB);
    byte[] xva = exportOk("uuid=" + vm.getUuid(c) + "&use_compression=true");
    assertThat(xva[0] & 0xff).isEqualTo(0x1f);
    assertThat(xva[1] & 0xff).isEqualTo(0x8b);
    assertThat(listing(xva).get(0)).startsWith("ova.xml ");
    assertSameVm(importedVms(importXva(xva, "")).get(0), vm, diskA, diskB);
  }

  @Test
  void zstdRoundTrip() throws Exception {
    VM vm = vmWithDisks("xva-zstd", diskA);
    byte[] xva = exportOk("ref=" + vm.toWireString() + "&use_compression=zstd");
    assertThat(xva).startsWith(0x28, 0xb5, 0x2f, 0xfd);
    Path z = tmp.resolve("vm.xva.zst");
    Files.write(z, xva);
    run(List.of("zstd", "-q", "-d", z.toString(), "-o", tmp.resolve("vm.xva").toString()), null);
    assertThat(listing(Files.readAllBytes(tmp.resolve("vm.xva"))).get(0)).startsWith("ova.xml ");
    assertSameVm(importedVms(importXva(xva, "")).get(0), vm, diskA);
  }

  @Test
  void aSnapshotExportsAsATemplate() throws Exception {
    VM vm = vmWithDisks("xva-snapshotted", diskA);
    VM snap = vm.snapshot(c, "xva-snapshot");
    upload(disks(vm).get("0"), image(6 * MIB, 9, MIB)); // the VM moves on; the snapshot does not
    byte[] xva = exportOk("ref=" + snap.toWireString());
    VM imported = importedVms(importXva(xva, "")).get(0);
    VM.Record r = imported.getRecord(c);
    assertThat(r.nameLabel).isEqualTo("xva-snapshot");
    assertThat(r.isASnapshot).isFalse();
    assertThat(r.isATemplate).as("xapi's snapshots are templates, and import as such").isTrue();
    assertThat(r.snapshotOf.toWireString()).isEqualTo("OpaqueRef:NULL");
    assertThat(download(disks(imported).get("0"))).isEqualTo(diskA);
  }

  @Test
  void vmImportThroughTheJavaSdkFetchesTheArchiveByUrl() throws Exception {
    VM vm = vmWithDisks("xva-sdk", diskA, diskB);
    String url =
        base()
            + "/export?session_id="
            + c.getSessionReference()
            + "&uuid="
            + vm.getUuid(c)
            + "&use_compression=true";
    Set<VM> vms = VM.import_(c, url, defaultSr(), false, false);
    assertThat(vms).hasSize(1);
    assertSameVm(vms.iterator().next(), vm, diskA, diskB);
  }

  @Test
  void asyncVmImportResultIsTheSetOfNewVms() throws Exception {
    VM vm = vmWithDisks("xva-async", diskA);
    String url =
        base() + "/export?session_id=" + c.getSessionReference() + "&uuid=" + vm.getUuid(c);
    Task t = VM.import_Async(c, url, defaultSr(), false, false);
    String token = "";
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (t.getStatus(c) == Types.TaskStatusType.PENDING) {
      assertThat(System.nanoTime()).as("Async.VM.import still pending").isLessThan(deadline);
      token = com.xensource.xenapi.Event.from(c, Set.of("task"), token, 5.0).token;
    }
    List<VM> vms = importedVms(t); // an XML-RPC array of references, as xapi's
    assertThat(vms).hasSize(1);
    assertSameVm(vms.get(0), vm, diskA);
  }

  @Test
  void importAnswers200BeforeReadingTheBody() throws Exception {
    VM vm = vmWithDisks("xva-protocol", diskA);
    byte[] xva = exportOk("uuid=" + vm.getUuid(c));
    Task task = Task.create(c, "xva import", "");
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", url.getPort())) {
      s.setSoTimeout(30_000);
      var out = s.getOutputStream();
      String head =
          "PUT /import?session_id="
              + c.getSessionReference()
              + "&task_id="
              + task.toWireString()
              + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
              + xva.length
              + "\r\n\r\n";
      out.write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.write(xva, 0, 100); // not even ova.xml's header
      out.flush();
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream()));
      assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
      assertThat(task.getStatus(c)).isEqualTo(Types.TaskStatusType.PENDING);
      out.write(xva, 100, xva.length - 100);
      out.flush();
      while (in.readLine() != null) {
        // the answer ends when the import has
      }
    }
    assertSameVm(importedVms(task).get(0), vm, diskA);
  }

  @Test
  void aRunningVmIsNotExported() throws Exception {
    VM vm = vmWithDisks("xva-running", diskA);
    vm.start(c, false, true);
    try {
      var r = exportXva("uuid=" + vm.getUuid(c));
      assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(409);
      assertThat(new String(r.body())).startsWith("VM_BAD_POWER_STATE");
    } finally {
      vm.hardShutdown(c);
    }
  }
}
