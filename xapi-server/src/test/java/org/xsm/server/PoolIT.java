package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

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
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xsm.iscsi.ArrayProcess;
import org.xsm.nfs.testing.GaneshaServer;

/**
 * A pool of three packaged servers on this machine, each in its own network namespace with its own
 * address, the master's records in a real PostgreSQL started here: joins, a member answering
 * HOST_IS_SLAVE to the Java SDK, XenAPI.py and Xen Orchestra's connector (which follows it and
 * snapshots and reverts a VM through it), kill -9 of the master and a member promoted with every
 * acknowledged record there, the dead master marked not live and its VMs halted, the other member
 * recovered, the master's role handed over, and an eject.
 */
class PoolIT {
  private static final String PASSWORD = "xsm-test-root";
  private static TestNetwork net;
  private static Postgres pg;
  private static Path dir;
  private static Path pgDir;
  private static GaneshaServer ganesha;
  private static ArrayProcess array;
  private static final List<Member> hosts = new ArrayList<>();

  /** One server: its namespace, address, process and log. */
  record Member(int index, String ns, String address, Process process, Path log) {
    URL url() throws Exception {
      return new URL("http://" + address + ":8080/");
    }

    String output() {
      try {
        return Files.readString(log, StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }

    Connection login() throws Exception {
      Connection c = new Connection(url());
      Session.loginWithPassword(c, "root", PASSWORD, "2.21");
      return c;
    }

    void kill9() throws Exception {
      process.destroyForcibly();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  @BeforeAll
  static void pool() throws Exception {
    Assumptions.assumeTrue(TestNetwork.available(), "needs root and ip netns");
    dir = Files.createTempDirectory(Path.of("/tmp"), "xsm-pool-it-");
    net = TestNetwork.create();
    // Its own directory: as root the cluster runs as postgres, which must reach it.
    pgDir = Files.createTempDirectory(Path.of("/tmp"), "xsm-pool-pg-");
    pg = Postgres.start(pgDir, net.gateway(), net.cidr());
    pg.createDatabase("xsm_pool");
    for (int i = 1; i <= 3; i++) {
      hosts.add(start(i));
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    for (Member m : hosts) {
      m.process().destroyForcibly();
      m.process().waitFor(30, TimeUnit.SECONDS);
    }
    if (ganesha != null) {
      ganesha.stop();
    }
    if (array != null) {
      array.close();
    }
    if (pg != null) {
      pg.close();
    }
    if (net != null) {
      net.close();
    }
    // The data goes; the servers' logs stay in the directory for a failed run's reader.
    for (Path p :
        new Path[] {
          pgDir,
          dir == null ? null : dir.resolve("host1"),
          dir == null ? null : dir.resolve("host2"),
          dir == null ? null : dir.resolve("host3")
        }) {
      if (p != null && Files.exists(p)) {
        try (var walk = Files.walk(p)) {
          walk.sorted(java.util.Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        }
      }
    }
  }

  private static Member start(int i) throws Exception {
    String ns = net.addHost(i);
    Path data = dir.resolve("host" + i);
    Files.createDirectories(data);
    String jar = System.getProperty("xsm.server.jar", "target/quarkus-app/quarkus-run.jar");
    Path log = dir.resolve("host" + i + ".log");
    List<String> cmd =
        TestNetwork.in(
            ns,
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-jar",
                Path.of(jar).toAbsolutePath().toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> env = pb.environment();
    env.put("XSM_ROOT_PASSWORD", PASSWORD);
    env.put("XSM_DATA_DIR", data.toString());
    env.put("XSM_HOST_ADDRESS", net.address(i));
    env.put("XSM_HTTP_BIND", "0.0.0.0");
    env.put("QUARKUS_HTTP_PORT", "8080");
    env.put("XSM_HTTPS_PORT", "8443");
    env.put("XSM_NBD_PORT", "10809");
    env.put("XSM_DOMAINS", "simulator");
    env.put("XSM_POOL_HEARTBEAT_MS", "500");
    // Long enough that a member starved of CPU on a loaded machine is not taken for dead.
    env.put("XSM_POOL_HOST_TIMEOUT_MS", "15000");
    if (i == 1) {
      env.put("XSM_DB_URL", pg.url(net.gateway(), "xsm_pool"));
      env.put("XSM_DB_USER", Postgres.USER);
      env.put("XSM_DB_PASSWORD", Postgres.PASSWORD);
    }
    pb.redirectErrorStream(true);
    Process process = pb.start();
    Member m = new Member(i, ns, net.address(i), process, log);
    // The server's output goes to its log; the start is over when both ready lines have gone by.
    java.util.concurrent.CompletableFuture<Void> ready =
        new java.util.concurrent.CompletableFuture<>();
    Thread tee =
        new Thread(
            () -> {
              boolean server = false;
              boolean http = false;
              try (var in =
                      new java.io.BufferedReader(
                          new java.io.InputStreamReader(
                              process.getInputStream(), StandardCharsets.UTF_8));
                  var out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
                for (String line; (line = in.readLine()) != null; ) {
                  out.write(line);
                  out.newLine();
                  out.flush();
                  server |= line.contains("xsm XenAPI server ready");
                  http |= line.contains("Listening on:");
                  if (server && http) {
                    ready.complete(null);
                  }
                }
              } catch (IOException e) {
                ready.completeExceptionally(e);
              }
              ready.completeExceptionally(new IOException("the server's output ended"));
            },
            "host" + i + "-log");
    tee.setDaemon(true);
    tee.start();
    try {
      ready.get(120, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      fail("host " + i + " not ready (" + e + "):\n" + m.output());
    }
    return m;
  }

  private static Member host(int i) {
    return hosts.get(i - 1);
  }

  /** Polls {@code check} until it holds (bounded): for state that changes after a call returns. */
  private static void await(String what, long seconds, ThrowingCheck check) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Throwable last = null;
    while (System.nanoTime() < deadline) {
      try {
        if (check.holds()) {
          return;
        }
      } catch (Exception | AssertionError e) {
        last = e;
      }
      Thread.sleep(50); // a poll interval: the loop ends on the state
    }
    fail(what + " within " + seconds + " s" + (last == null ? "" : ": " + last));
  }

  interface ThrowingCheck {
    boolean holds() throws Exception;
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
    ganesha = GaneshaServer.start(dir.resolve("ganesha"), "0.0.0.0");
    Map<String, String> nfsConfig =
        Map.of(
            "server",
            net.gateway(),
            "serverpath",
            GaneshaServer.EXPORT,
            "options",
            "port=" + ganesha.nfsPort() + ",mountport=" + ganesha.mountd().getPort());
    SR nfs =
        SR.create(
            master,
            Host.getByUuid(master, hostUuid(1)),
            nfsConfig,
            0L,
            "shared",
            "",
            "nfs",
            "user",
            true,
            Map.of());
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
    VDI onArray = smDisk.poolMigrate(master, iscsi, Map.of());
    assertThat(onArray.getSR(master)).isEqualTo(iscsi);
    VDI movedSnap = smSnap.getVBDs(master).iterator().next().getVDI(master);
    assertThat(movedSnap.getSR(master)).isEqualTo(iscsi);
    assertThat(movedSnap.getSnapshotOf(master)).isEqualTo(onArray);
    assertThat(onArray.getCbtEnabled(master)).as("the array has no CBT to keep").isFalse();
    sm.hardShutdown(master);
    assertThat(onMaster.get(onArray, "raw", "")).isEqualTo(before);
    assertThat(onMaster.get(movedSnap, "raw", "")).isEqualTo(before);

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
    SdkTest.newVdi(second, nfs2, "made by the new master", 4 << 20, Map.of());
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
    assertThat(SR.getByUuid(thirdC, nfsUuid).getVDIs(thirdC)).hasSize(2);

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

  private static String uuidOf(Connection c, Host h) {
    try {
      return h.getUuid(c);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hostUuid(int i) throws IOException {
    return Files.readString(dir.resolve("host" + i).resolve("host-uuid")).strip();
  }
}
