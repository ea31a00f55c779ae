package org.xsm.server.soak;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.xsm.iscsi.ArrayProcess;
import org.xsm.nfs.testing.GaneshaServer;

/**
 * The soak: the packaged server with three SRs (its local EXT SR, an NFS SR on nfs-ganesha, an
 * iSCSI SR on xsm's array), {@code clients} workers (half over XML-RPC, half over JSON-RPC) for
 * {@code length}, faults at random moments every {@code faultGap} on average, then the workers'
 * checks of every VDI's bytes and the {@link FinalChecks}. Run by {@code SoakIT} (a short profile
 * in {@code ./xsm test}) and by {@code ./xsm soak} (as long as asked).
 */
final class SoakRun {
  /** The size of the NFS SR's filesystem: the workers' disks there fill it up at times. */
  static final int NFS_MIB = Integer.getInteger("xsm.soak.nfs-mib", 96);

  private SoakRun() {}

  /** What a run gives: its figures and findings. */
  record Result(Stats stats, int serverStarts, Duration length, String report) {}

  static Result run(Path dir, Duration length, int clients, Duration faultGap) throws Exception {
    Files.createDirectories(dir);
    Stats stats = new Stats();
    // The NFS SR lives on a small filesystem of its own, which fills up at times (ENOSPC).
    Path export = dir.resolve("ganesha").resolve("export");
    boolean small = NFS_MIB > 0 && SmallFilesystem.mount(export, NFS_MIB);
    GaneshaServer ganesha = GaneshaServer.start(dir.resolve("ganesha"));
    ArrayProcess[] array = {ArrayProcess.start(dir.resolve("array"), 0, 0)};
    SoakServer server = new SoakServer(dir.resolve("data"), dir);
    try {
      server.start();
      XmlRpc admin = new XmlRpc(server.base().toURL());
      String session = admin.login(SoakServer.PASSWORD);
      List<String> srs = new ArrayList<>();
      String pool = (String) ((List<?>) admin.call("pool.get_all", session)).get(0);
      srs.add((String) admin.call("pool.get_default_SR", session, pool));
      String host = (String) ((List<?>) admin.call("host.get_all", session)).get(0);
      Map<String, String> nfs = new HashMap<>();
      nfs.put("server", "127.0.0.1");
      nfs.put("serverpath", GaneshaServer.EXPORT);
      nfs.put("options", "port=" + ganesha.nfsPort() + ",mountport=" + ganesha.mountd().getPort());
      srs.add(createSr(admin, session, host, nfs, "soak-nfs", "nfs"));
      srs.add(createSr(admin, session, host, array[0].deviceConfig(), "soak-iscsi", "iscsi"));
      Path localDir =
          Path.of(
              (String)
                  ((Map<?, ?>)
                          admin.call(
                              "PBD.get_device_config",
                              session,
                              ((List<?>) admin.call("SR.get_PBDs", session, srs.get(0))).get(0)))
                      .get("path"));

      long end = System.nanoTime() + length.toNanos();
      java.util.function.BooleanSupplier running = () -> System.nanoTime() < end;
      List<Worker> workers = new ArrayList<>();
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        URL url = server.base().toURL();
        Rpc rpc = i % 2 == 0 ? new XmlRpc(url) : new JsonRpc(server.base());
        Worker w = new Worker(i, rpc, server, srs, stats, running);
        workers.add(w);
        Thread t = new Thread(w, "soak-worker-" + i);
        threads.add(t);
        t.start();
      }
      Faults faults =
          new Faults(
              server,
              ganesha,
              Faults.restartable(array, dir.resolve("array")),
              stats,
              running,
              faultGap.toMillis());
      Thread faulter = new Thread(faults, "soak-faults");
      faulter.start();
      faulter.join();
      for (Thread t : threads) {
        t.join(TimeUnit.MINUTES.toMillis(10));
        if (t.isAlive()) {
          stats.inconsistency(t.getName() + " did not finish its last operation in 10 minutes");
        }
      }
      if (faults.failure() != null) {
        stats.inconsistency("a fault's restart failed: " + faults.failure());
      }
      if (!server.awaitUp(300)) {
        throw new IllegalStateException("the server is not up at the end");
      }
      for (Worker w : workers) {
        try {
          w.finish();
        } catch (Exception | AssertionError e) {
          stats.inconsistency("worker " + w.id + " final check: " + e);
        }
      }
      session = admin.login(SoakServer.PASSWORD);
      FinalChecks checks = new FinalChecks(admin, session, stats);
      Map<String, Map<?, ?>> vdis = Map.of();
      try {
        vdis = checks.records(workers, srs);
      } catch (Rpc.Failure | java.io.IOException e) {
        stats.inconsistency("the checks of the records failed: " + e);
      }
      server.close(); // its collector with it: the files stay as they are while they are read
      for (Path d : List.of(localDir, ganesha.exportDir())) {
        try {
          checks.files(d, vdis);
        } catch (java.io.IOException e) {
          stats.inconsistency("the checks of the files in " + d + " failed: " + e);
        }
      }
      return new Result(stats, server.starts(), length, stats.report());
    } finally {
      server.close();
      array[0].close();
      ganesha.stop();
      if (small) {
        SmallFilesystem.unmount(export);
      }
    }
  }

  private static String createSr(
      Rpc rpc, String session, String host, Map<String, String> config, String name, String type)
      throws Exception {
    return (String)
        rpc.call("SR.create", session, host, config, 0L, name, "", type, "user", true, Map.of());
  }

  /** {@code ./xsm soak [minutes [clients]]}: a long run, its report on standard output. */
  public static void main(String[] args) throws Exception {
    long minutes = args.length > 0 ? Long.parseLong(args[0]) : 10;
    int clients = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "xsm-soak-");
    Result r = run(dir, Duration.ofMinutes(minutes), clients, Duration.ofSeconds(25));
    System.out.println(r.report());
    System.out.println("server starts: " + r.serverStarts() + "; logs in " + dir);
    System.exit(r.stats().inconsistencies().isEmpty() ? 0 : 1);
  }
}
