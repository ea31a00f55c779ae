package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.PBD;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xsm.iscsi.ArrayProcess;

/**
 * A pool of three packaged servers on this machine, each in its own network namespace with its own
 * address, the master's records in a real PostgreSQL started here: joins, a member answering
 * HOST_IS_SLAVE to the Java SDK, XenAPI.py and Xen Orchestra's connector (which follows it and
 * snapshots and reverts a VM through it), a VM whose disk is on the shared NFS SR written on a
 * member while the master snapshots it and then moved to the other member, kill -9 of the master
 * and a member promoted with every acknowledged record there, the dead master marked not live and
 * its VMs halted, the other member recovered, the master's role handed over, and an eject.
 */
class PoolIT {
  private static final String PASSWORD = PoolServers.PASSWORD;
  private static PoolServers pool;
  private static Path dir;
  private static TestNetwork net;
  private static ArrayProcess array;

  @BeforeAll
  static void pool() throws Exception {
    Assumptions.assumeTrue(TestNetwork.available(), "needs root and ip netns");
    pool = PoolServers.start(3, "simulator");
    dir = pool.dir();
    net = pool.net();
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (array != null) {
      array.close();
    }
    if (pool != null) {
      pool.close();
    }
  }

  private static PoolServers.Member host(int i) {
    return pool.host(i);
  }

  private static void await(String what, long seconds, PoolServers.ThrowingCheck check)
      throws Exception {
    PoolServers.await(what, seconds, check);
  }

  /**
   * The VDIs users made (managed ones): base copies come and go with the collector (one whose
   * children are gone is deleted, its record with it), so they are not acknowledged records.
   */
  private static Set<String> vdiUuids(Connection c) throws Exception {
    Set<String> out = new HashSet<>();
    for (VDI.Record r : VDI.getAllRecords(c).values()) {
      if (r.managed) {
        out.add(r.uuid);
      }
    }
    return out;
  }

  @Test
  void joinRedirectFailoverDesignateEject() throws Exception {
    Connection master = host(1).login();
    // A VM running on the master (simulated domain) and some acknowledged records.
    VM vm = SdkTest.newVmOn(master, "on the master");
    vm.start(master, false, false);
    String vmUuid = vm.getUuid(master);
    for (int i = 2; i <= 3; i++) {
      Connection joiner = host(i).login();
      Pool.join(joiner, host(1).address(), "root", PASSWORD);
      // The joiner answers only for itself now.
      assertThatThrownBy(() -> Pool.getAll(joiner))
          .isInstanceOfSatisfying(
              Types.HostIsSlave.class,
              e -> assertThat(e.masterIPAddress).isEqualTo(host(1).address()));
    }
    assertThat(Host.getAll(master)).hasSize(3);
    for (Host h : Host.getAll(master)) {
      assertThat(h.getMetrics(master).getLive(master)).as(h.getAddress(master) + " live").isTrue();
    }

    // VMs on each host: the master runs the VM's lifecycle, the host's agent its domain.
    VM onTwo = SdkTest.newVmOn(master, "on host 2");
    VM onThree = SdkTest.newVmOn(master, "on host 3");
    Host two = Host.getByUuid(master, hostUuid(2));
    Host three = Host.getByUuid(master, hostUuid(3));
    onTwo.startOn(master, two, false, false);
    onThree.startOn(master, three, false, false);
    assertThat(onTwo.getResidentOn(master)).isEqualTo(two);
    assertThat(onThree.getResidentOn(master)).isEqualTo(three);
    assertThat(onTwo.getPowerState(master)).isEqualTo(Types.VmPowerState.RUNNING);
    onThree.pause(master);
    onThree.unpause(master);
    String twoUuid = onTwo.getUuid(master);
    String threeUuid = onThree.getUuid(master);
    // VM.start prefers the VM's affinity host, as xapi does.
    VM byAffinity = SdkTest.newVmOn(master, "affinity host 3");
    byAffinity.setAffinity(master, three);
    byAffinity.start(master, false, false);
    assertThat(byAffinity.getResidentOn(master)).isEqualTo(three);
    byAffinity.hardShutdown(master);
    // Live migration between hosts: member to member and back, and from the master to a member.
    onTwo.poolMigrate(master, three, Map.of());
    assertThat(onTwo.getResidentOn(master)).isEqualTo(three);
    onTwo.pause(master); // its domain answers on host 3 now
    onTwo.unpause(master);
    onTwo.poolMigrate(master, two, Map.of());
    assertThat(onTwo.getResidentOn(master)).isEqualTo(two);
    VM moving = SdkTest.newVmOn(master, "from the master to host 3");
    moving.start(master, false, false);
    moving.poolMigrate(master, three, Map.of());
    assertThat(moving.getResidentOn(master)).isEqualTo(three);
    assertThat(moving.getPowerState(master)).isEqualTo(Types.VmPowerState.RUNNING);
    String movingUuid = moving.getUuid(master);
    // A VM whose disk is on the master's local SR can run only there.
    VM withDisk = SdkTest.newVmOn(master, "with a local disk");
    VDI localDisk =
        SdkTest.newVdi(
            master,
            Pool.getAll(master).iterator().next().getDefaultSR(master),
            "local",
            1 << 20,
            Map.of());
    SdkTest.attachDisk(master, withDisk, localDisk, "0");
    assertThatThrownBy(() -> withDisk.startOn(master, two, false, false))
        .isInstanceOf(Types.VmRequiresSr.class);

    // A shared NFS SR (nfs-ganesha on the bridge): a PBD on every host, each plugged by its host.
    SR nfs = pool.sharedNfsSr(master, "shared");
    String nfsUuid = nfs.getUuid(master);
    assertThat(nfs.getPBDs(master)).hasSize(3);
    for (PBD p : nfs.getPBDs(master)) {
      assertThat(p.getCurrentlyAttached(master))
          .as("plugged on " + p.getHost(master).getAddress(master))
          .isTrue();
    }
    VDI onNfs = SdkTest.newVdi(master, nfs, "on the shared SR", 4 << 20, Map.of());
    // A shared iSCSI SR on xsm's array (listening on the bridge): plugged on every host too.
    Files.createDirectories(dir.resolve("array"));
    array = ArrayProcess.start(dir.resolve("array").resolve("pool"), net.gateway(), 0, 0);
    SR iscsi =
        SR.create(
            master,
            Host.getByUuid(master, hostUuid(1)),
            array.deviceConfig(),
            0L,
            "array",
            "",
            "iscsi",
            "user",
            true,
            Map.of());
    assertThat(iscsi.getPBDs(master)).hasSize(3);
    for (PBD p : iscsi.getPBDs(master)) {
      assertThat(p.getCurrentlyAttached(master))
          .as("array plugged on " + p.getHost(master).getAddress(master))
          .isTrue();
    }
    SdkTest.newVdi(master, iscsi, "on the array", 8 << 20, Map.of());
    String onNfsUuid = onNfs.getUuid(master);

    // A VM whose disk is on the shared SR runs on host 2: host 2's agent attaches the disk and
    // exports it on its local NBD socket, where its domain writes (qemu-io here: a simulated domain
    // does no disk I/O). The master snapshots the VM meanwhile, suspending host 2's device around
    // the change of its chain: the snapshot is one point of the writes, and the writes after it go
    // to the disk only. Then the VM moves to host 3, which takes the disk over.
    VM sharedVm = SdkTest.newVmOn(master, "disk on the shared SR");
    VDI sharedDisk = SdkTest.newVdi(master, nfs, "shared disk", 8 << 20, Map.of());
    SdkTest.attachDisk(master, sharedVm, sharedDisk, "0");
    sharedVm.startOn(master, two, false, false);
    String sharedUuid = sharedDisk.getUuid(master);
    byte[] zeros = new byte[8 << 20];
    GuestWrites onTwoWrites =
        new GuestWrites(8 << 20, 3000, 22)
            .start(GuestWrites.socketOf(dir.resolve("host2")), sharedUuid);
    VM sharedSnap = sharedVm.snapshot(master, "taken while host 2 writes");
    onTwoWrites.finish();
    VDI sharedSnapDisk = sharedSnap.getVBDs(master).iterator().next().getVDI(master);
    String sharedSnapUuid = sharedSnapDisk.getUuid(master);
    Transfers transfers = new Transfers(master, host(1).url());
    int point = onTwoWrites.pointOf(transfers.get(sharedSnapDisk, "raw", ""), zeros);
    System.out.printf(
        "pool: the snapshot holds the first %d of 3000 writes made on host 2%n", point);
    assertThat(point).as("the snapshot is one point of the writes").isPositive();
    byte[] afterTwo = onTwoWrites.afterAll(zeros);
    sharedVm.poolMigrate(master, three, Map.of());
    assertThat(sharedVm.getResidentOn(master)).isEqualTo(three);
    GuestWrites onThreeWrites =
        new GuestWrites(8 << 20, 300, 23)
            .start(GuestWrites.socketOf(dir.resolve("host3")), sharedUuid);
    onThreeWrites.finish();
    ChildProcess.Result gone =
        ChildProcess.run(
            concat(
                List.of("/usr/bin/qemu-io", "-r", "-c", "read 0 64k"),
                GuestWrites.target(GuestWrites.socketOf(dir.resolve("host2")), sharedUuid)),
            null,
            60);
    assertThat(gone.exit()).as("host 2 let the disk go: " + gone.output()).isNotZero();
    // Its disk is not moved between SRs while written on a member (the mirror runs on the master).
    assertThatThrownBy(() -> sharedDisk.poolMigrate(master, iscsi, Map.of()))
        .isInstanceOf(Types.OperationNotAllowed.class);
    sharedVm.hardShutdown(master);
    assertThat(transfers.get(sharedDisk, "raw", "")).isEqualTo(onThreeWrites.afterAll(afterTwo));
    assertThat(transfers.get(sharedSnapDisk, "raw", "")).isEqualTo(onTwoWrites.after(point, zeros));

    // Storage migration of a running VM's disk from the NFS SR to the iSCSI SR, with its snapshot.
    VM sm = SdkTest.newVmOn(master, "moved from NFS to iSCSI");
    VDI smDisk = SdkTest.newVdi(master, nfs, "NFS disk", 8 << 20, Map.of());
    SdkTest.attachDisk(master, sm, smDisk, "0");
    smDisk.enableCbt(master);
    Transfers onMaster = new Transfers(master, host(1).url());
    byte[] before = new byte[8 << 20];
    new java.util.Random(21).nextBytes(before);
    assertThat(onMaster.put(smDisk, "raw", before).succeeded()).isTrue();
    VM smSnap = sm.snapshot(master, "before the move");
    sm.start(master, false, false);
    // A writer on the running disk's NBD export (TLS) during the whole move, as its guest writes.
    GuestWrites during =
        new GuestWrites(8 << 20, 2000, 24)
            .start(NbdXenApiTest.target(smDisk.getNbdInfo(master).iterator().next()).qemuArgs());
    VDI onArray = smDisk.poolMigrate(master, iscsi, Map.of());
    during.finish();
    assertThat(onArray.getSR(master)).isEqualTo(iscsi);
    VDI movedSnap = smSnap.getVBDs(master).iterator().next().getVDI(master);
    assertThat(movedSnap.getSR(master)).isEqualTo(iscsi);
    assertThat(movedSnap.getSnapshotOf(master)).isEqualTo(onArray);
    assertThat(onArray.getCbtEnabled(master)).as("CBT kept on the array").isTrue();
    sm.hardShutdown(master);
    byte[] afterMove = during.afterAll(before);
    assertThat(onMaster.get(onArray, "raw", "")).isEqualTo(afterMove);
    assertThat(onMaster.get(movedSnap, "raw", "")).isEqualTo(before);
    // The next backup is still a delta: from the moved snapshot to a new one, the changed blocks
    // are those the writer wrote (at least; CBT may name more, never fewer).
    VDI afterSnap = onArray.snapshot(master, Map.of());
    byte[] bitmap =
        java.util.Base64.getDecoder().decode(movedSnap.listChangedBlocks(master, afterSnap));
    for (int block = 0; block < (8 << 20) / 65536; block++) {
      boolean changed =
          !java.util.Arrays.equals(
              before,
              block * 65536,
              (block + 1) * 65536,
              afterMove,
              block * 65536,
              (block + 1) * 65536);
      boolean marked = (bitmap[block / 8] & (0x80 >>> (block % 8))) != 0;
      if (changed) {
        assertThat(marked)
            .as("block %d changed by the writer is in the changed blocks", block)
            .isTrue();
      }
    }

    // A member's HTTP handlers redirect to the master, as xapi's do.
    java.net.http.HttpResponse<Void> redirected =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        host(2).url().toURI().resolve("/export_raw_vdi?vdi=x&format=raw"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.discarding());
    assertThat(redirected.statusCode()).isEqualTo(302);
    assertThat(redirected.headers().firstValue("Location"))
        .hasValue("http://" + host(1).address() + ":8080/export_raw_vdi?vdi=x&format=raw");
    // A member redirects every client; each follows to the master and works there.
    for (int i = 2; i <= 3; i++) {
      int member = i;
      assertThatThrownBy(() -> host(member).login())
          .isInstanceOfSatisfying(
              Types.HostIsSlave.class,
              e -> assertThat(e.masterIPAddress).isEqualTo(host(1).address()));
    }
    ChildProcess.Result py =
        ChildProcess.run(
            List.of(
                "/usr/bin/python3",
                NodeClients.CLIENTS.resolve("xenapi_py_pool_test.py").toString(),
                host(2).url().toString(),
                "root",
                PASSWORD,
                host(1).address()),
            null,
            120);
    assertThat(py.output()).contains("hosts 3 live 3").contains("all checks passed");
    String xo =
        NodeClients.run(
            host(3).url(), "xo_pool_test.mjs", List.of("xen-api"), host(1).address(), "3");
    assertThat(xo).contains("vm ");

    // Acknowledged records: each VDI.create answered by the master is in the pool's database.
    for (int i = 0; i < 20; i++) {
      SdkTest.newVdi(
          master,
          Pool.getAll(master).iterator().next().getDefaultSR(master),
          "ack-" + i,
          1 << 20,
          Map.of());
    }
    Set<String> acknowledged = vdiUuids(master);
    Map<String, String> described = new java.util.HashMap<>();
    for (VDI.Record r : VDI.getAllRecords(master).values()) {
      described.put(
          r.uuid, r.nameLabel + " on " + r.SR.getNameLabel(master) + " (" + r.location + ")");
    }

    // kill -9 of the master; a member takes over from the database.
    long killed = System.nanoTime();
    host(1).kill9();
    Connection local = new Connection(host(2).url());
    Session.slaveLocalLoginWithPassword(local, "root", PASSWORD);
    Pool.emergencyTransitionToMaster(local);
    Connection second = host(2).login();
    long takeover = System.nanoTime() - killed;
    Set<String> lost = new HashSet<>(acknowledged);
    lost.removeAll(vdiUuids(second));
    assertThat(lost)
        .as("no acknowledged record lost: %s", lost.stream().map(described::get).toList())
        .isEmpty();
    Pool pool = Pool.getAll(second).iterator().next();
    assertThat(pool.getMaster(second).getAddress(second)).isEqualTo(host(2).address());
    // The third host still points at the dead master until the new one recovers it.
    // Host 3 answers; host 1 is dead.
    assertThat(Pool.recoverSlaves(second))
        .extracting(h -> uuidOf(second, h))
        .containsExactly(hostUuid(3));
    await(
        "host 3 redirects to the new master",
        30,
        () -> {
          try {
            host(3).login();
            return false;
          } catch (Types.HostIsSlave e) {
            return e.masterIPAddress.equals(host(2).address());
          }
        });
    // The dead master is marked not live after the timeout, and its VM halted.
    Host dead = Host.getByUuid(second, hostUuid(1));
    await("the dead master is not live", 60, () -> !dead.getMetrics(second).getLive(second));
    assertThat(VM.getByUuid(second, vmUuid).getPowerState(second))
        .isEqualTo(Types.VmPowerState.HALTED);
    // The VMs of the surviving hosts still run: host 2's own domain was adopted by it as master.
    assertThat(VM.getByUuid(second, twoUuid).getPowerState(second))
        .isEqualTo(Types.VmPowerState.RUNNING);
    assertThat(VM.getByUuid(second, threeUuid).getPowerState(second))
        .isEqualTo(Types.VmPowerState.RUNNING);
    assertThat(VM.getByUuid(second, movingUuid).getPowerState(second))
        .as("the VM migrated away from the master before it died")
        .isEqualTo(Types.VmPowerState.RUNNING);
    VM.getByUuid(second, threeUuid).pause(second); // host 3's agent answers the new master
    // The shared SR: plugged by the new master itself, still by host 3, not by the dead host.
    SR nfs2 = SR.getByUuid(second, nfsUuid);
    for (PBD p : nfs2.getPBDs(second)) {
      String at = p.getHost(second).getAddress(second);
      assertThat(p.getCurrentlyAttached(second))
          .as("plugged on " + at)
          .isEqualTo(!at.equals(host(1).address()));
    }
    assertThat(VDI.getByUuid(second, onNfsUuid).getSR(second)).isEqualTo(nfs2);
    String madeBySecond =
        SdkTest.newVdi(second, nfs2, "made by the new master", 4 << 20, Map.of()).getUuid(second);
    VM.getByUuid(second, threeUuid).unpause(second);
    System.out.printf(
        "pool: a working new master %d ms after the old one was killed%n", takeover / 1_000_000);

    // The master's role handed over to host 3; host 2 redirects to it.
    Host third = Host.getByUuid(second, hostUuid(3));
    Pool.designateNewMaster(second, third);
    Connection thirdC = host(3).login();
    assertThat(vdiUuids(thirdC)).containsAll(acknowledged);
    assertThatThrownBy(() -> host(2).login())
        .isInstanceOfSatisfying(
            Types.HostIsSlave.class,
            e -> assertThat(e.masterIPAddress).isEqualTo(host(3).address()));
    await(
        "host 2 beats to the new master",
        30,
        () -> Host.getByUuid(thirdC, hostUuid(2)).getMetrics(thirdC).getLive(thirdC));
    // Host 2, a member again, has the shared SR plugged again by the new master through its agent.
    await(
        "host 2's PBD of the shared SR plugged again",
        60,
        () -> {
          for (PBD p : SR.getByUuid(thirdC, nfsUuid).getPBDs(thirdC)) {
            if (p.getHost(thirdC).getAddress(thirdC).equals(host(2).address())) {
              return p.getCurrentlyAttached(thirdC);
            }
          }
          return false;
        });
    Set<String> onNfsNow = new HashSet<>();
    for (VDI v : SR.getByUuid(thirdC, nfsUuid).getVDIs(thirdC)) {
      if (v.getManaged(thirdC)) {
        onNfsNow.add(v.getUuid(thirdC));
      }
    }
    assertThat(onNfsNow)
        .containsExactlyInAnyOrder(onNfsUuid, sharedUuid, sharedSnapUuid, madeBySecond);

    // Its VM is still running on host 2, now driven by host 3: it has to stop before an eject.
    VM stillOnTwo = VM.getByUuid(thirdC, twoUuid);
    assertThat(stillOnTwo.getPowerState(thirdC)).isEqualTo(Types.VmPowerState.RUNNING);
    assertThat(VM.getByUuid(thirdC, threeUuid).getPowerState(thirdC))
        .isEqualTo(Types.VmPowerState.RUNNING);
    Host h2 = Host.getByUuid(thirdC, hostUuid(2));
    assertThatThrownBy(() -> Pool.eject(thirdC, h2)).isInstanceOf(Types.HostHasResidentVms.class);
    stillOnTwo.hardShutdown(thirdC);
    assertThat(stillOnTwo.getPowerState(thirdC)).isEqualTo(Types.VmPowerState.HALTED);

    // Eject host 2: it is a lone host again, with fresh records; the pool forgets it.
    Pool.eject(thirdC, h2);
    Connection lone = host(2).login();
    assertThat(Host.getAll(lone)).hasSize(1);
    assertThat(Host.getAll(thirdC)).hasSize(2);
    assertThat(SR.getByUuid(thirdC, nfsUuid).getPBDs(thirdC)).hasSize(2); // host 2's went
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static String uuidOf(Connection c, Host h) {
    try {
      return h.getUuid(c);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hostUuid(int i) throws IOException {
    return host(i).hostUuid();
  }
}
