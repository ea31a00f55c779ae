package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Network;
import com.xensource.xenapi.Task;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VIF;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * XVA imports that must be refused with xapi's error on the task and leave no VM, VDI, VBD, VIF or
 * network behind (a corrupted chunk, a stream cut short, a restore over a VM that is not older),
 * and an XVA written by Python's tarfile from the documented layout, which must import.
 */
@QuarkusTest
class XvaRefusalTest extends XvaTestBase {
  @TempDir Path tmp;

  private final byte[] disk = image(4 * MIB, 5, 100, 2L * MIB + 4096);

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private void assertRefused(byte[] xva, String more, String code) throws Exception {
    Set<String> before = everything();
    Task t = importXva(xva, more);
    assertThat(t.getStatus(c)).isEqualTo(Types.TaskStatusType.FAILURE);
    assertThat(t.getErrorInfo(c)).contains(code);
    assertThat(everything()).as("nothing made by the refused import remains").isEqualTo(before);
  }

  @Test
  void aCorruptedChunkIsRefusedAndLeavesNothing() throws Exception {
    VM vm = vmWithDisks("xva-corrupt", disk, image(2 * MIB, 6, 5000));
    byte[] xva = exportOk("uuid=" + vm.getUuid(c));
    int at = indexOf(xva, Arrays.copyOfRange(disk, 2 * MIB + 4096, 2 * MIB + 4096 + 32));
    assertThat(at).isPositive();
    byte[] bad = xva.clone();
    bad[at + 10] ^= 0x40;
    assertRefused(bad, "", "IMPORT_ERROR_SOME_CHECKSUMS_FAILED");
    // xapi's force: bad checksums are only logged.
    List<VM> forced = importedVms(importXva(bad, "&force=true"));
    assertThat(forced).hasSize(1);
  }

  @Test
  void aTruncatedStreamIsRefusedAndLeavesNothing() throws Exception {
    VM vm = vmWithDisks("xva-truncated", disk, image(2 * MIB, 7, 0));
    byte[] xva = exportOk("uuid=" + vm.getUuid(c));
    assertRefused(Arrays.copyOf(xva, xva.length * 2 / 3), "", "IMPORT_ERROR_PREMATURE_EOF");
    assertRefused(Arrays.copyOf(xva, 700), "", "IMPORT_ERROR_PREMATURE_EOF");
    byte[] gz = exportOk("uuid=" + vm.getUuid(c) + "&use_compression=true");
    assertRefused(Arrays.copyOf(gz, gz.length / 2), "", "IMPORT_ERROR_PREMATURE_EOF");
  }

  /** Waits for the task to leave pending, woken by event.from (no sleeping). */
  private void awaitEnd(Task t) throws Exception {
    String token = "";
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (t.getStatus(c) == Types.TaskStatusType.PENDING) {
      assertThat(System.nanoTime()).as("task still pending after 60 s").isLessThan(deadline);
      token = com.xensource.xenapi.Event.from(c, Set.of("task"), token, 5.0).token;
    }
  }

  @Test
  void aClientThatDisconnectsMidUploadLeavesNothing() throws Exception {
    VM vm = vmWithDisks("xva-disconnect", disk, image(2 * MIB, 9, 0));
    byte[] xva = exportOk("uuid=" + vm.getUuid(c));
    Set<String> before = everything();
    Task task = Task.create(c, "xva import", "");
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", url.getPort())) {
      var out = s.getOutputStream();
      out.write(
          ("PUT /import?session_id="
                  + c.getSessionReference()
                  + "&task_id="
                  + task.toWireString()
                  + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                  + xva.length
                  + "\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.write(xva, 0, xva.length / 2);
      out.flush();
      var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream()));
      assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
    } // the client goes away half-way
    awaitEnd(task);
    assertThat(task.getStatus(c)).isEqualTo(Types.TaskStatusType.FAILURE);
    assertThat(task.getErrorInfo(c)).contains("IMPORT_ERROR_PREMATURE_EOF");
    assertThat(everything()).isEqualTo(before);
  }

  @Test
  void notAnXvaIsRefused() throws Exception {
    assertRefused(new byte[4096], "", "IMPORT_ERROR_PREMATURE_EOF");
    byte[] tar = new byte[2048];
    System.arraycopy("hello.txt".getBytes(), 0, tar, 0, 9);
    assertRefused(tar, "", "IMPORT_ERROR_GENERIC"); // a header with a bad checksum
  }

  @Test
  void aRestoreOverAVmThatIsNotOlderIsRefused() throws Exception {
    VM vm = vmWithDisks("xva-restore", disk);
    String uuid = vm.getUuid(c);
    byte[] xva = exportOk("uuid=" + vm.getUuid(c));
    assertRefused(xva, "&restore=true", "VM_TO_IMPORT_IS_NOT_NEWER_VERSION");
    // forced, the restore replaces the VM (same UUID, same MAC), its old disks kept
    VM restored = importedVms(importXva(xva, "&restore=true&force=true")).get(0);
    assertThat(restored.getUuid(c)).isEqualTo(uuid);
    assertThat(download(disks(restored).get("0"))).isEqualTo(disk);
  }

  @Test
  void anXvaWrittenByPythonFromTheDocumentedLayoutImports() throws Exception {
    byte[] img = image(5 * MIB + 512 * 1024, 8, 0, 2L * MIB + 99, 3L * MIB + 1);
    Path raw = tmp.resolve("disk.raw");
    Path xva = tmp.resolve("python.xva");
    Files.write(raw, img);
    String net = "xva-python-net-" + System.nanoTime();
    run(
        List.of(
            "python3",
            "src/test/resources/xva/make_xva.py",
            xva.toString(),
            raw.toString(),
            "xva-from-python",
            net),
        null);
    List<VM> vms = importedVms(importXva(Files.readAllBytes(xva), ""));
    assertThat(vms).hasSize(1);
    VM.Record r = vms.get(0).getRecord(c);
    assertThat(r.nameLabel).isEqualTo("xva-from-python");
    assertThat(r.VCPUsMax).isEqualTo(3L);
    assertThat(r.memoryStaticMax).isEqualTo(512L * MIB);
    assertThat(r.otherConfig).containsEntry("made-by", "python");
    assertThat(r.uuid).isNotEqualTo("5d2b3c1e-0000-4000-8000-000000000001");
    byte[] got = download(disks(vms.get(0)).get("0"));
    assertThat(got.length).as("the SR rounds 5.5 MiB up").isGreaterThanOrEqualTo(img.length);
    assertThat(Arrays.copyOf(got, img.length)).isEqualTo(img);
    assertThat(Arrays.copyOfRange(got, img.length, got.length)).containsOnly(0);
    VIF vif = r.VIFs.iterator().next();
    Network n = vif.getNetwork(c);
    assertThat(n.getNameLabel(c)).as("a network no one has is made").isEqualTo(net);
    assertThat(n.getOtherConfig(c)).doesNotContainKey("xsm_import_incomplete");
    assertThat(vif.getMAC(c)).isNotEqualTo("aa:bb:cc:00:11:22");
  }
}
