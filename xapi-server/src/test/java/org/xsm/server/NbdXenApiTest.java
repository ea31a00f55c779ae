package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import com.xensource.xenapi.VdiNbdServerInfo;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.xsm.server.model.Ref;
import org.xsm.server.sr.SrService;

/**
 * NBD exports and CBT as XenAPI clients see them, through the real XenServer Java SDK: {@code
 * VDI.get_nbd_info} while a VM runs or the control domain has the disk, data written and read by
 * qemu-io over those exports, and {@code VDI.list_changed_blocks} across snapshots, a clone, a VM
 * revert and a coalesce, checked against exactly the 64 KiB blocks written.
 */
@QuarkusTest
class NbdXenApiTest extends SdkTest {
  private static final long MIB = 1024 * 1024;
  private static final long K64 = 64 * 1024;

  @Inject SrService storage;
  @Inject org.xsm.server.nbd.NbdService nbd;

  /** Waits (polling, bounded) until no NBD client holds the VDI attached on demand. */
  private void awaitReleased(VDI vdi) throws Exception {
    Ref<org.xsm.server.model.Vdi> ref = Ref.of(vdi.toWireString());
    long deadline = System.currentTimeMillis() + 30_000;
    while (nbd.heldByClients(ref) && System.currentTimeMillis() < deadline) {
      Thread.sleep(10); // a poll interval: the loop ends on the state
    }
    assertThat(nbd.heldByClients(ref)).as("released after its last client left").isFalse();
  }

  private VM vm(String name, boolean controlDomain) throws Exception {
    VM.Record r = new VM.Record();
    r.nameLabel = name;
    r.nameDescription = "";
    r.otherConfig = Map.of();
    r.memoryStaticMax = 256 * MIB;
    r.isControlDomain = controlDomain;
    return VM.create(c, r);
  }

  private VDI vdi(String name) throws Exception {
    return newVdi(name, 8 * MIB);
  }

  private VBD vbd(VM vm, VDI vdi, Types.VbdMode mode) throws Exception {
    VBD.Record b = new VBD.Record();
    b.VM = vm;
    b.VDI = vdi;
    b.userdevice = "0";
    b.mode = mode;
    b.type = Types.VbdType.DISK;
    b.otherConfig = Map.of();
    b.qosAlgorithmParams = Map.of();
    b.qosAlgorithmType = "";
    return VBD.create(c, b);
  }

  /**
   * Where and how to reach a VDI over NBD, as a client builds it from {@code VDI.get_nbd_info}:
   * with TLS when the record carries a certificate, which the client then trusts (written as its CA
   * file), and checks against the address.
   */
  record Target(String export, String libnbdUri, List<String> qemuArgs) {}

  private Target nbdUri(VDI vdi) throws Exception {
    Set<VdiNbdServerInfo.Record> info = vdi.getNbdInfo(c);
    assertThat(info).hasSize(1);
    return target(info.iterator().next());
  }

  static Target target(VdiNbdServerInfo.Record r) throws IOException {
    String hostPort = r.address + ":" + r.port;
    if (r.cert.isEmpty()) {
      String uri = "nbd://" + hostPort + "/" + r.exportname;
      return new Target(r.exportname, uri, List.of("-f", "raw", uri));
    }
    Path dir = Files.createTempDirectory("xsm-nbd-ca");
    Files.writeString(dir.resolve("ca-cert.pem"), r.cert);
    return new Target(
        r.exportname,
        "nbds://" + hostPort + "/" + r.exportname + "?tls-certificates=" + dir,
        List.of(
            "--object",
            "tls-creds-x509,id=tls0,endpoint=client,dir=" + dir,
            "--image-opts",
            "driver=raw,file.driver=nbd,file.server.type=inet,file.server.host="
                + r.address
                + ",file.server.port="
                + r.port
                + ",file.export="
                + r.exportname
                + ",file.tls-creds=tls0"));
  }

  private static String qemuIo(Target t, String... commands) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/qemu-io"));
    for (String x : commands) {
      cmd.add("-c");
      cmd.add(x);
    }
    cmd.addAll(t.qemuArgs());
    String out = run(cmd);
    assertThat(out).as(String.join(" ", cmd)).doesNotContain("failed").doesNotContain("error");
    return out;
  }

  private static String nbdinfo(Target t) throws Exception {
    return run(List.of("/usr/bin/nbdinfo", "--json", t.libnbdUri()));
  }

  private static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(cmd + " hung");
    }
    return p.exitValue() + ":" + out;
  }

  @Test
  void runningVmDisksAreServedOnTheirDeviceAndEveryDiskOnDemand() throws Exception {
    VM vm = vm("nbd-vm", false);
    VDI disk = vdi("nbd-disk");
    vbd(vm, disk, Types.VbdMode.RW);
    Target halted = nbdUri(disk);
    assertThat(halted.export()).matches(disk.getUuid(c) + "\\.[0-9a-f]{32}");
    qemuIo(halted, "write -P 0x41 0 1M", "flush");
    awaitReleased(disk);
    vm.start(c, false, false);
    VdiNbdServerInfo.Record r = disk.getNbdInfo(c).iterator().next();
    assertThat(r.exportname).as("one name per VDI").isEqualTo(halted.export());
    assertThat(r.address).isEqualTo("127.0.0.1");
    assertThat(r.port).isPositive();
    assertThat(r.cert).as("TLS by default, as xapi").startsWith("-----BEGIN CERTIFICATE-----");
    assertThat(r.subject).isNotEmpty();
    Target uri = nbdUri(disk);
    qemuIo(uri, "read -P 0x41 0 1M", "write -P 0x42 0 1M", "flush", "read -P 0x42 0 1M");
    assertThat(nbdinfo(uri)).contains("\"is_read_only\": false");
    vm.hardShutdown(c);
    qemuIo(nbdUri(disk), "read -P 0x42 0 1M", "read -P 0 1M 7M");
    awaitReleased(disk);
    vm.start(c, false, false);
    vm.hardShutdown(c);
  }

  @Test
  void snapshotsAttachedToTheControlDomainAreReadOnly() throws Exception {
    VM vm = vm("nbd-vm2", false);
    VDI disk = vdi("nbd-disk2");
    vbd(vm, disk, Types.VbdMode.RW);
    vm.start(c, false, false);
    qemuIo(nbdUri(disk), "write -P 0x42 0 64k", "flush");
    VDI snap = disk.snapshot(c, Map.of());
    qemuIo(nbdUri(disk), "write -P 0x43 0 64k", "flush");
    VM dom0 = vm("control domain", true);
    VBD b = vbd(dom0, snap, Types.VbdMode.RO);
    b.plug(c);
    Target uri = nbdUri(snap);
    assertThat(nbdinfo(uri)).contains("\"is_read_only\": true");
    qemuIo(uri, "read -P 0x42 0 64k");
    List<String> write = new java.util.ArrayList<>(List.of("/usr/bin/qemu-io", "-c", "write 0 4k"));
    write.addAll(uri.qemuArgs());
    assertThat(run(write)).doesNotContain("wrote");
    b.unplug(c);
    b.destroy(c);
    vm.hardShutdown(c);
  }

  @Test
  void anUnattachedSnapshotIsAttachedReadOnlyForItsClientsAndReleasedAfter() throws Exception {
    VDI disk = vdi("nbd-ondemand");
    Target d = nbdUri(disk);
    qemuIo(d, "write -P 0x51 0 128k", "flush");
    awaitReleased(disk);
    VDI snap = disk.snapshot(c, Map.of());
    qemuIo(d, "write -P 0x52 0 64k", "flush");
    Target s = nbdUri(snap);
    assertThat(s.export()).startsWith(snap.getUuid(c) + ".");
    assertThat(nbdinfo(s)).contains("\"is_read_only\": true");
    qemuIo(s, "read -P 0x51 0 128k", "read -P 0 128k 1M");
    List<String> write = new java.util.ArrayList<>(List.of("/usr/bin/qemu-io", "-c", "write 0 4k"));
    write.addAll(s.qemuArgs());
    assertThat(run(write)).doesNotContain("wrote");
    qemuIo(s, "read -P 0x51 0 128k");
    awaitReleased(snap);
    // Each client detached the snapshot when it left: the HTTP export can attach it now.
    byte[] raw = new Transfers(c, url).get(snap, "raw", "");
    assertThat(raw[0]).isEqualTo((byte) 0x51);
    // A wrong token names nothing.
    String wrong =
        s.export().substring(0, s.export().length() - 1) + (s.export().endsWith("0") ? "1" : "0");
    VdiNbdServerInfo.Record bad = snap.getNbdInfo(c).iterator().next();
    bad.exportname = wrong;
    List<String> info = new java.util.ArrayList<>(List.of("/usr/bin/qemu-img", "info"));
    info.addAll(target(bad).qemuArgs());
    assertThat(run(info)).doesNotStartWith("0:");
  }

  @Test
  void aSnapshotHeldByAnNbdClientCanBeExportedOverHttpMeanwhile() throws Exception {
    VDI disk = vdi("nbd-shared-read");
    Target d = nbdUri(disk);
    qemuIo(d, "write -P 0x61 0 64k", "flush");
    awaitReleased(disk);
    VDI snap = disk.snapshot(c, Map.of());
    Ref<org.xsm.server.model.Vdi> ref = Ref.of(snap.toWireString());
    // qemu-io without commands stays connected, reading commands from its standard input.
    List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/qemu-io", "-r"));
    cmd.addAll(nbdUri(snap).qemuArgs());
    Process client = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      // Its prompt comes after the NBD handshake, in which the server attached the snapshot.
      java.util.concurrent.CompletableFuture<String> prompt =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                StringBuilder seen = new StringBuilder();
                try {
                  java.io.InputStream in = client.getInputStream();
                  for (int b; (b = in.read()) >= 0; ) {
                    seen.append((char) b);
                    if (seen.indexOf("qemu-io>") >= 0) {
                      return seen.toString();
                    }
                  }
                } catch (IOException e) {
                  seen.append(e);
                }
                throw new IllegalStateException("qemu-io ended: " + seen);
              });
      prompt.get(60, TimeUnit.SECONDS);
      assertThat(nbd.heldByClients(ref)).as("the client holds the snapshot").isTrue();
      // Xen Orchestra's next step while (or just after) its NBD clients read: the HTTP export of
      // the same snapshot shares the read-only attachment instead of failing with VDI_IN_USE.
      byte[] raw = new Transfers(c, url).get(snap, "raw", "");
      assertThat(raw[0]).isEqualTo((byte) 0x61);
      assertThat(raw[65536]).isZero();
      assertThat(nbd.heldByClients(ref)).as("the export left the client's hold").isTrue();
    } finally {
      client.getOutputStream().close(); // end of input: qemu-io quits
      assertThat(client.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    awaitReleased(snap);
    // Released for real: a writer can take it now (a VDI.copy reads it; a destroy is allowed).
    snap.destroy(c);
  }

  @Test
  void tlsIsRequiredUnlessANetworkIsForInsecureNbd() throws Exception {
    VM vm = vm("tls-vm", false);
    VDI disk = vdi("tls-disk");
    vbd(vm, disk, Types.VbdMode.RW);
    vm.start(c, false, false);
    VdiNbdServerInfo.Record r = disk.getNbdInfo(c).iterator().next();
    String plain = "nbd://" + r.address + ":" + r.port + "/" + r.exportname;
    assertThat(run(List.of("/usr/bin/nbdinfo", plain)))
        .as("a plain client is refused")
        .doesNotStartWith("0:")
        .containsIgnoringCase("TLS");
    // Over TLS, trusting the certificate get_nbd_info gave: qemu-io writes, nbdcopy reads back.
    Target t = target(r);
    qemuIo(t, "write -P 0x5a 0 1M", "flush");
    Path copy = Files.createTempFile("xsm-nbd", ".raw");
    assertThat(run(List.of("/usr/bin/nbdcopy", t.libnbdUri(), copy.toString()))).startsWith("0:");
    byte[] bytes = Files.readAllBytes(copy);
    assertThat(bytes).hasSize((int) (8 * MIB));
    for (int i = 0; i < MIB; i++) {
      assertThat(bytes[i]).isEqualTo((byte) 0x5a);
    }
    // A network for insecure NBD allows plain clients, and get_nbd_info gives no certificate.
    com.xensource.xenapi.Network net = com.xensource.xenapi.Network.getAll(c).iterator().next();
    net.addPurpose(c, Types.NetworkPurpose.INSECURE_NBD);
    try {
      VdiNbdServerInfo.Record p = disk.getNbdInfo(c).iterator().next();
      assertThat(p.cert).isEmpty();
      assertThat(run(List.of("/usr/bin/nbdinfo", plain))).startsWith("0:");
    } finally {
      net.removePurpose(c, Types.NetworkPurpose.INSECURE_NBD);
    }
    vm.hardShutdown(c);
  }

  private static Set<Integer> bits(String base64) {
    byte[] b = Base64.getDecoder().decode(base64);
    assertThat(b).as("one bit per 64 KiB of an 8 MiB disk").hasSize(16);
    Set<Integer> out = new TreeSet<>();
    for (int i = 0; i < b.length * 8; i++) {
      if ((b[i >> 3] & (0x80 >>> (i & 7))) != 0) {
        out.add(i);
      }
    }
    return out;
  }

  private long coalesced() throws Exception {
    return storage.plugin(Ref.of(defaultSr().toWireString())).gcCounters().coalesced();
  }

  @Test
  void changedBlocksAcrossSnapshotsCloneRevertAndCoalesce() throws Exception {
    VM vm = vm("cbt-vm", false);
    VDI disk = vdi("cbt-disk");
    vbd(vm, disk, Types.VbdMode.RW);
    disk.enableCbt(c);
    assertThat(disk.getCbtEnabled(c)).isTrue();
    vm.start(c, false, false);
    qemuIo(nbdUri(disk), "write -P 1 " + K64 + " 4k");
    VDI s1 = disk.snapshot(c, Map.of());
    assertThat(s1.getCbtEnabled(c)).isTrue();
    qemuIo(
        nbdUri(disk),
        "write -P 2 " + 10 * K64 + " 64k",
        "write -P 3 " + (20 * K64 + 65000) + " 2000");
    VDI s2 = disk.snapshot(c, Map.of());
    assertThat(bits(s1.listChangedBlocks(c, s2))).containsExactly(10, 20, 21);
    qemuIo(nbdUri(disk), "write -P 4 " + 30 * K64 + " 512");
    VDI s3 = disk.snapshot(c, Map.of());
    assertThat(bits(s1.listChangedBlocks(c, s3))).containsExactly(10, 20, 21, 30);
    assertThat(bits(s2.listChangedBlocks(c, s3))).containsExactly(30);

    // Coalesce: s2 goes, the collector merges what it held; s1 -> s3 is still known.
    long before = coalesced();
    s2.destroy(c);
    long deadline = System.currentTimeMillis() + 60_000;
    while (coalesced() == before && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
    }
    assertThat(coalesced()).as("the collector coalesced").isGreaterThan(before);
    assertThat(bits(s1.listChangedBlocks(c, s3))).containsExactly(10, 20, 21, 30);

    // Clone of the running disk: it holds the changes since s3 the disk holds.
    qemuIo(nbdUri(disk), "write -P 5 " + 40 * K64 + " 4k");
    VDI clone = disk.createClone(c, Map.of());
    assertThat(clone.getCbtEnabled(c)).isTrue();
    assertThat(bits(s3.listChangedBlocks(c, clone))).containsExactly(40);

    // Revert: the VM's disk becomes a clone of the snapshot's; what was written after is gone.
    VM snap = vm.snapshot(c, "before-50");
    VDI atSnap = snap.getVBDs(c).iterator().next().getVDI(c);
    qemuIo(nbdUri(disk), "write -P 6 " + 50 * K64 + " 4k");
    snap.revert(c);
    VDI reverted = vm.getVBDs(c).iterator().next().getVDI(c);
    assertThat(reverted.getCbtEnabled(c)).isTrue();
    assertThat(bits(atSnap.listChangedBlocks(c, reverted))).isEmpty();
    vm.start(c, false, false);
    qemuIo(nbdUri(reverted), "read -P 0 " + 50 * K64 + " 4k", "write -P 7 " + 60 * K64 + " 4k");
    assertThat(bits(atSnap.listChangedBlocks(c, reverted))).containsExactly(60);
    assertThat(bits(s1.listChangedBlocks(c, reverted))).containsExactly(10, 20, 21, 30, 40, 60);

    // Data destroy keeps the tracking of s1 but not its data.
    s1.dataDestroy(c);
    assertThat(s1.getType(c)).isEqualTo(Types.VdiType.CBT_METADATA);
    assertThat(bits(s1.listChangedBlocks(c, s3))).containsExactly(10, 20, 21, 30);
    vm.hardShutdown(c);

    VDI plain = vdi("no-cbt");
    assertThatThrownBy(() -> plain.listChangedBlocks(c, plain))
        .isInstanceOf(Types.VdiNoCbtMetadata.class);
  }
}
