package org.xsm.iscsi.initiator;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real tgtd (Linux SCSI target framework daemon) for tests and benchmarks, started in the
 * foreground on 127.0.0.1 and a free port, configured with tgtadm, and killed by its PID. Control
 * ports 21..29 belong to this module (tests use 21, the benchmark 29).
 */
public final class Tgtd implements AutoCloseable {
  private final Path dir;
  private final int control;
  private final int port;
  private final List<List<String>> setup = new ArrayList<>();
  private Process process;

  private Tgtd(Path dir, int control, int port) {
    this.dir = dir;
    this.control = control;
    this.port = port;
  }

  public static Tgtd start(Path dir, int control) throws IOException, InterruptedException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Tgtd t = new Tgtd(dir, control, port);
    t.launch();
    return t;
  }

  public int port() {
    return port;
  }

  private void launch() throws IOException, InterruptedException {
    Path log = dir.resolve("tgtd-" + control + ".log");
    process =
        new ProcessBuilder(
                "tgtd",
                "-f",
                "-C",
                Integer.toString(control),
                "--iscsi",
                "portal=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      if (!process.isAlive()) {
        throw new IOException(
            "tgtd exited with " + process.exitValue() + ": " + Files.readString(log));
      }
      if (listening() && tgtadmQuiet("--op", "show", "--mode", "sys") == 0) {
        break;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("tgtd did not come up: " + Files.readString(log));
      }
      Thread.sleep(50);
    }
    for (List<String> args : setup) {
      run(args);
    }
  }

  private boolean listening() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Runs tgtadm and remembers the call, to configure a restarted tgtd the same way. */
  public void tgtadm(String... args) throws IOException, InterruptedException {
    List<String> call = List.of(args);
    run(call);
    setup.add(call);
  }

  private void run(List<String> args) throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(List.of("tgtadm", "-C", Integer.toString(control), "--lld", "iscsi"));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
  }

  private int tgtadmQuiet(String... args) throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(List.of("tgtadm", "-C", Integer.toString(control), "--lld", "iscsi"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor();
  }

  /** A target with a disk LUN 1 backed by {@code file}, open to all initiators. */
  public void target(int tid, String iqn, Path file) throws IOException, InterruptedException {
    tgtadm("--op", "new", "--mode", "target", "--tid", Integer.toString(tid), "-T", iqn);
    tgtadm(
        "--op",
        "new",
        "--mode",
        "logicalunit",
        "--tid",
        Integer.toString(tid),
        "--lun",
        "1",
        "-b",
        file.toString());
    tgtadm("--op", "bind", "--mode", "target", "--tid", Integer.toString(tid), "-I", "ALL");
  }

  /** Changes a logical unit's parameters, e.g. {@code readonly=1}, {@code thin_provisioning=1}. */
  public void lunParams(int tid, int lun, String params) throws IOException, InterruptedException {
    tgtadm(
        "--op",
        "update",
        "--mode",
        "logicalunit",
        "--tid",
        Integer.toString(tid),
        "--lun",
        Integer.toString(lun),
        "--params",
        params);
  }

  /** Requires CHAP on target {@code tid} with this account. */
  public void chap(int tid, String user, String secret) throws IOException, InterruptedException {
    tgtadm("--op", "new", "--mode", "account", "--user", user, "--password", secret);
    tgtadm("--op", "bind", "--mode", "account", "--tid", Integer.toString(tid), "--user", user);
  }

  /** Kills tgtd (SIGKILL, as a crash would) and starts it again with the same configuration. */
  public void restart(long downMillis) throws IOException, InterruptedException {
    kill();
    Thread.sleep(downMillis);
    launch();
  }

  /** Freezes tgtd (SIGSTOP): connections stay open but nothing answers, like a hung target. */
  public void freeze() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** Lets a frozen tgtd run again (SIGCONT). */
  public void thaw() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String which) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("kill", which, Long.toString(process.pid())).start();
    if (p.waitFor() != 0) {
      throw new IOException("kill " + which + " " + process.pid() + " failed");
    }
  }

  public void kill() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws IOException, InterruptedException {
    if (process != null && process.isAlive()) {
      thaw();
    }
    kill();
  }
}
