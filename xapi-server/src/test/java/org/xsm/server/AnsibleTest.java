package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.xensource.xenapi.Console;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VIF;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.xsm.server.ChildProcess.Result;

/**
 * The server driven by Ansible, unmodified: Debian's {@code ansible} with community.general's
 * {@code xenserver_guest}, {@code xenserver_guest_info} and {@code xenserver_guest_powerstate},
 * over XenAPI.py (Debian's python3-os-xenapi, importable as {@code XenAPI} through {@code
 * src/test/ansible/pylib}). Each playbook in {@code src/test/ansible} asserts what Ansible reports
 * (changed, the VM's facts); after each, this test checks the server's records through the Java
 * SDK. Missing prerequisites fail the test, saying what to install ({@code .ci/test} installs
 * them).
 */
@QuarkusTest
class AnsibleTest extends SdkTest {
  private static final Path PLAYBOOKS = Path.of("src/test/ansible");
  private static final Path PLAYBOOK_BIN = Path.of("/usr/bin/ansible-playbook");
  private static final Path MODULE =
      Path.of(
          "/usr/lib/python3/dist-packages/ansible_collections/community/general/plugins/modules/"
              + "xenserver_guest.py");
  private static final long TIMEOUT_SECONDS = 300;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Module tasks run and those that succeeded, over every playbook of the test. */
  private int moduleTasks;

  private int moduleTasksOk;

  private String base() {
    String host = "localhost".equals(url.getHost()) ? "127.0.0.1" : url.getHost();
    return "http://" + host + ":" + url.getPort();
  }

  /** Runs a playbook; returns its per-task results, failing the test on any failed task. */
  private JsonNode play(String playbook, String vmName, String... extraVars) throws Exception {
    Path tmp = Path.of("target/ansible-tmp").toAbsolutePath();
    Files.createDirectories(tmp);
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "env",
                "PYTHONPATH=" + PLAYBOOKS.resolve("pylib").toAbsolutePath(),
                "ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3",
                "ANSIBLE_STDOUT_CALLBACK=json",
                "ANSIBLE_LOCALHOST_WARNING=false",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING=false",
                "ANSIBLE_NOCOLOR=1",
                "ANSIBLE_LOCAL_TEMP=" + tmp,
                "ANSIBLE_REMOTE_TEMP=" + tmp,
                PLAYBOOK_BIN.toString(),
                "-i",
                "localhost,",
                "-c",
                "local",
                PLAYBOOKS.resolve(playbook).toString(),
                "-e",
                "xen_url=" + base(),
                "-e",
                "xen_user=root",
                "-e",
                "xen_password=xsm-test-root",
                "-e",
                "vm_name=" + vmName));
    for (String v : extraVars) {
      cmd.add("-e");
      cmd.add(v);
    }
    Result r = ChildProcess.run(cmd, null, TIMEOUT_SECONDS);
    assertThat(r.timedOut()).as("%s timed out:\n%s", playbook, r.output()).isFalse();
    String out = r.output();
    int start = out.startsWith("{") ? 0 : out.indexOf("\n{") + 1;
    if (start < 0 || start >= out.length()) {
      fail(playbook + " printed no JSON result:\n" + out);
    }
    JsonNode result = JSON.readTree(out.substring(start));
    List<String> failed = new ArrayList<>();
    for (JsonNode p : result.path("plays")) {
      for (JsonNode t : p.path("tasks")) {
        JsonNode h = t.path("hosts").path("localhost");
        String action = h.path("action").asText("");
        boolean ok = !h.path("failed").asBoolean(false) && !h.isMissingNode();
        if (action.startsWith("community.general.xenserver")) {
          moduleTasks++;
          moduleTasksOk += ok ? 1 : 0;
        }
        if (!ok) {
          failed.add(t.path("task").path("name").asText() + ": " + h.path("msg").asText(""));
        }
      }
    }
    assertThat(failed).as("failed tasks of %s (exit %d)", playbook, r.exit()).isEmpty();
    assertThat(r.exit()).as("%s exit status:\n%s", playbook, out).isZero();
    return result;
  }

  private VM onlyVm(String name) throws Exception {
    Set<VM> vms = VM.getByNameLabel(c, name);
    assertThat(vms).as("VMs named %s", name).hasSize(1);
    return vms.iterator().next();
  }

  @Test
  void ansiblePlaybooksDriveTheServer() throws Exception {
    if (!Files.isExecutable(PLAYBOOK_BIN) || !Files.isRegularFile(MODULE)) {
      fail("Debian's ansible (with community.general) is missing: apt-get install ansible");
    }
    // Create from the stock Debian template: 2 vCPUs, 1 GiB, one 10 GiB disk, one VIF.
    play("create.yml", "ansible-a");
    VM vm = onlyVm("ansible-a");
    VM.Record r = vm.getRecord(c);
    assertThat(r.isATemplate).isFalse();
    assertThat(r.isDefaultTemplate).isFalse();
    assertThat(r.powerState).isEqualTo(Types.VmPowerState.HALTED);
    assertThat(r.VCPUsMax).isEqualTo(2L);
    assertThat(r.VCPUsAtStartup).isEqualTo(2L);
    assertThat(r.memoryStaticMax).isEqualTo(1L << 30);
    assertThat(r.memoryDynamicMin).isEqualTo(1L << 30);
    assertThat(r.otherConfig).doesNotContainKey("disks").containsKey("mac_seed");
    assertThat(r.otherConfig).containsEntry("base_template_name", "Debian Bookworm 12");
    assertThat(r.allowedOperations).contains(Types.VmOperations.START);
    assertThat(r.VBDs).hasSize(1);
    VBD.Record disk = r.VBDs.iterator().next().getRecord(c);
    assertThat(disk.userdevice).isEqualTo("0");
    VDI.Record vdi = disk.VDI.getRecord(c);
    assertThat(vdi.virtualSize).isEqualTo(10L << 30);
    assertThat(vdi.nameLabel).isEqualTo("ansible-a-system");
    assertThat(r.VIFs).hasSize(1);
    VIF.Record nic = r.VIFs.iterator().next().getRecord(c);
    assertThat(nic.MAC).matches("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
    assertThat(Integer.parseInt(nic.MAC.substring(0, 2), 16) & 0x03).isEqualTo(0x02);
    assertThat(nic.MACAutogenerated).isTrue();
    assertThat(nic.currentlyAttached).isFalse();

    // Every power state and back to halted; the guest's address, console and metrics come and go.
    play("power.yml", "ansible-a");
    r = vm.getRecord(c);
    assertThat(r.powerState).isEqualTo(Types.VmPowerState.HALTED);
    assertThat(r.guestMetrics.toWireString()).isEqualTo("OpaqueRef:NULL");
    assertThat(r.consoles).isEmpty();
    assertThat(r.VIFs.iterator().next().getCurrentlyAttached(c)).isFalse();
    assertThat(r.metrics.getStartTime(c).getTime()).isZero();

    // Reconfigure: 4 vCPUs in sockets of 2, 2 GiB, a second disk and VIF, a new name.
    VDI iso = newVdi("ansible-test.iso", 4L << 20);
    play("reconfigure.yml", "ansible-a", "iso_name=ansible-test.iso");
    vm = onlyVm("ansible-a-renamed");
    r = vm.getRecord(c);
    assertThat(r.VCPUsMax).isEqualTo(4L);
    assertThat(r.platform).containsEntry("cores-per-socket", "2");
    assertThat(r.memoryStaticMax).isEqualTo(2L << 30);
    assertThat(r.memoryDynamicMax).isEqualTo(2L << 30);
    assertThat(r.VBDs).hasSize(3);
    assertThat(r.VIFs).hasSize(2);
    List<String> macs = new ArrayList<>();
    List<VDI> disks = new ArrayList<>();
    for (VIF v : r.VIFs) {
      macs.add(v.getMAC(c));
    }
    VBD.Record drive = null;
    for (VBD b : r.VBDs) {
      VBD.Record br = b.getRecord(c);
      if (br.type == Types.VbdType.CD) {
        drive = br;
      } else {
        disks.add(br.VDI);
      }
    }
    assertThat(drive).as("the CD drive Ansible added").isNotNull();
    assertThat(drive.userdevice).isEqualTo("3");
    assertThat(drive.empty).isTrue(); // the ISO went in, then out again
    assertThat(disks).hasSize(2).doesNotContain(iso);
    assertThat(macs).contains("02:00:00:aa:bb:cc");
    assertThat(VM.getByNameLabel(c, "ansible-a")).isEmpty();

    // Remove: the VM and its disks go.
    play("remove.yml", "ansible-a-renamed");
    assertThat(VM.getByNameLabel(c, "ansible-a-renamed")).isEmpty();
    Set<VDI> left = VDI.getAll(c);
    assertThat(left).doesNotContainAnyElementsOf(disks).contains(iso);

    // Deploy and start from "Other install media" with an empty CD drive, remove it running.
    play("deploy_running.yml", "ansible-b");
    assertThat(VM.getByNameLabel(c, "ansible-b")).isEmpty();
    for (Console.Record cr : Console.getAllRecords(c).values()) {
      assertThat(cr.VM.getUuid(c)).as("the VM of console %s", cr.uuid).isNotEmpty();
    }

    System.out.printf(
        "Ansible: %d of %d xenserver_guest* module tasks succeeded%n", moduleTasksOk, moduleTasks);
    assertThat(moduleTasksOk).isEqualTo(moduleTasks).isEqualTo(24);
  }
}
