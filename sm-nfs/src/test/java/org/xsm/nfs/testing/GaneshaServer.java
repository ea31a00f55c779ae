package org.xsm.nfs.testing;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.xsm.nfs.client.Mount3Client;
import org.xsm.nfs.client.Nfs3Client;
import org.xsm.nfs.client.Portmapper;
import org.xsm.nfs.rpc.RpcOptions;

/**
 * A real nfs-ganesha NFSv3 server on 127.0.0.1 for tests and benchmarks: FSAL VFS exporting a
 * directory as {@value #EXPORT} (and another, read-only, as {@value #READ_ONLY_EXPORT}), its own
 * configuration, log and pid file in a work directory, NFS and MOUNT on free ports registered with
 * rpcbind. Starts rpcbind first if nothing answers on port 111 (and stops it when the JVM exits).
 * Needs root and the Debian packages nfs-ganesha, nfs-ganesha-vfs and rpcbind.
 *
 * <p>Only one ganesha can be registered with rpcbind at a time (program 100003 is per host); tools
 * that ask the portmapper (qemu-img, nfs-cat) find the one that started last.
 */
public final class GaneshaServer implements Closeable {
  /** The pseudo path the export is mounted as. */
  public static final String EXPORT = "/export";

  /** The pseudo path of a second, read-only export (of {@link #readOnlyExportDir()}). */
  public static final String READ_ONLY_EXPORT = "/export-ro";

  private static Process rpcbind;

  private final Path workDir;
  private final Path exportDir;
  private final int nfsPort;
  private final int mountPort;
  private Process process;
  private final String bindAddress;

  private GaneshaServer(Path workDir, int nfsPort, int mountPort, String bindAddress) {
    this.bindAddress = bindAddress;
    this.workDir = workDir;
    this.exportDir = workDir.resolve("export");
    this.nfsPort = nfsPort;
    this.mountPort = mountPort;
  }

  /**
   * Starts a server exporting {@code workDir/export}, and waits until MOUNT and NFS answer.
   *
   * @throws IOException if a program is missing or the server does not come up within 30 s (the
   *     message quotes its log)
   */
  public static GaneshaServer start(Path workDir) throws IOException {
    return start(workDir, "127.0.0.1");
  }

  /**
   * As {@link #start(Path)}, listening on {@code bindAddress} (0.0.0.0: every address of this
   * machine, for clients in other network namespaces).
   */
  public static GaneshaServer start(Path workDir, String bindAddress) throws IOException {
    ensureRpcbind();
    GaneshaServer g =
        new GaneshaServer(workDir.toAbsolutePath(), freePort(), freePort(), bindAddress);
    Files.createDirectories(g.exportDir);
    Files.createDirectories(g.readOnlyExportDir());
    Files.createDirectories(g.workDir.resolve("recovery"));
    Files.writeString(g.workDir.resolve("ganesha.conf"), g.config());
    g.launch();
    return g;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private String config() {
    return """
        NFS_CORE_PARAM {
          Bind_addr = %s;
          Protocols = 3;
          Enable_UDP = false;
          NFS_Port = %d;
          MNT_Port = %d;
          Enable_NLM = false;
          Enable_RQUOTA = false;
          mount_path_pseudo = true;
        }
        NFSV4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = "%s"; }
        NFS_KRB5 { Active_krb5 = false; }
        %s
        %s
        LOG { Default_Log_Level = WARN; }
        """
        .formatted(
            bindAddress,
            nfsPort,
            mountPort,
            workDir.resolve("recovery"),
            export(1, exportDir, EXPORT, "RW"),
            export(2, readOnlyExportDir(), READ_ONLY_EXPORT, "RO"));
  }

  /** One NFSv3-only, TCP-only export of {@code dir} with root not squashed. */
  private static String export(int id, Path dir, String pseudo, String access) {
    return ("EXPORT { Export_Id = %d; Path = \"%s\"; Pseudo = %s; Protocols = 3; Transports = TCP;"
            + " Access_Type = %s; Squash = No_Root_Squash; SecType = sys; FSAL { Name = VFS; } }")
        .formatted(id, dir, pseudo, access);
  }

  private void launch() throws IOException {
    Path log = workDir.resolve("ganesha.log");
    process =
        new ProcessBuilder(
                "ganesha.nfsd",
                "-F",
                "-f",
                workDir.resolve("ganesha.conf").toString(),
                "-L",
                log.toString(),
                "-p",
                workDir.resolve("ganesha.pid").toString())
            .redirectErrorStream(true)
            .redirectOutput(workDir.resolve("ganesha.out").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    RpcOptions quick = new RpcOptions(Duration.ofSeconds(2), 0, 0, 0);
    IOException last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(
            "ganesha.nfsd exited with " + process.exitValue() + "; log: " + tail(log));
      }
      try {
        if (Portmapper.getPort("127.0.0.1", 111, Nfs3Client.PROGRAM, 3, quick) == nfsPort) {
          Mount3Client.mount(mountd(), EXPORT, quick);
          return;
        }
      } catch (IOException e) {
        last = e;
      }
      sleep(100);
    }
    process.destroyForcibly();
    throw new IOException("ganesha.nfsd did not come up in 30 s (" + last + "); log: " + tail(log));
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static synchronized void ensureRpcbind() throws IOException {
    if (answers(111)) {
      return;
    }
    Files.createDirectories(Path.of("/run/rpcbind"));
    rpcbind = new ProcessBuilder("rpcbind", "-f", "-w").redirectErrorStream(true).start();
    Process p = rpcbind;
    Runtime.getRuntime().addShutdownHook(new Thread(p::destroy, "rpcbind-stop"));
    for (int i = 0; i < 100 && !answers(111); i++) {
      if (!p.isAlive()) {
        throw new IOException("rpcbind exited with " + p.exitValue());
      }
      sleep(50);
    }
    if (!answers(111)) {
      throw new IOException("rpcbind did not start listening on port 111");
    }
  }

  private static boolean answers(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException();
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL after 10 s); the export directory stays. */
  public void stop() throws IOException {
    Process p = process;
    if (p == null) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
    process = null;
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  public void kill() throws IOException {
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      process = null;
    }
  }

  /** Starts the server again with the same configuration, ports and export. */
  public void restart() throws IOException {
    stop();
    launch();
  }

  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** The directory that is exported. */
  public Path exportDir() {
    return exportDir;
  }

  /** The directory exported read-only as {@link #READ_ONLY_EXPORT}. */
  public Path readOnlyExportDir() {
    return workDir.resolve("export-ro");
  }

  public int nfsPort() {
    return nfsPort;
  }

  public InetSocketAddress mountd() {
    return new InetSocketAddress("127.0.0.1", mountPort);
  }

  /** An nfs:// URL of a path under the export, for libnfs tools and qemu-img. */
  public String url(String relativePath) {
    return "nfs://127.0.0.1" + EXPORT + "/" + relativePath;
  }

  @Override
  public void close() throws IOException {
    stop();
  }
}
