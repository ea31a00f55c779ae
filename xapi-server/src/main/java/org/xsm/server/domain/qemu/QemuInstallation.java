package org.xsm.server.domain.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The QEMU of this host: the binary, its version, and the accelerator that works. KVM is used only
 * when a probe machine with {@code -accel kvm -cpu host} comes up and quits cleanly; a nested or
 * broken {@code /dev/kvm} (seen: "failed to set MSR 0x10a", or guests hanging at boot) falls back
 * to TCG, software emulation.
 *
 * @param binary the {@code qemu-system-x86_64} executable
 * @param version its first {@code --version} line
 * @param kvm whether KVM works
 * @param accelerationReason why KVM or TCG, for the log
 */
public record QemuInstallation(
    Path binary, String version, boolean kvm, String accelerationReason) {
  private static final Logger LOG = Logger.getLogger(QemuInstallation.class);

  /** The installed QEMU ({@code XSM_QEMU} names another binary), if any. */
  public static Optional<QemuInstallation> detect() {
    Optional<Path> bin = find();
    if (bin.isEmpty()) {
      return Optional.empty();
    }
    try {
      String version =
          run(List.of(bin.get().toString(), "--version")).lines().findFirst().orElse("");
      boolean kvmUsable =
          Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"));
      if (!kvmUsable) {
        return Optional.of(
            new QemuInstallation(bin.get(), version, false, "TCG (no usable /dev/kvm)"));
      }
      String probe = kvmProbe(bin.get());
      return Optional.of(
          probe == null
              ? new QemuInstallation(bin.get(), version, true, "KVM")
              : new QemuInstallation(
                  bin.get(), version, false, "TCG (KVM does not work here: " + probe + ")"));
    } catch (IOException e) {
      LOG.warnf(e, "%s does not run; no QEMU domains", bin.get());
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private static Optional<Path> find() {
    String named = System.getenv("XSM_QEMU");
    if (named != null && !named.isBlank()) {
      return Optional.of(Path.of(named)).filter(Files::isExecutable);
    }
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String dir : path.split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, "qemu-system-x86_64");
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** Null when a KVM machine with the host's CPU starts and quits cleanly, else what went wrong. */
  private static String kvmProbe(Path bin) throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(
                bin.toString(),
                "-accel",
                "kvm",
                "-cpu",
                "host",
                "-M",
                "pc",
                "-nodefaults",
                "-display",
                "none",
                "-S",
                "-monitor",
                "stdio")
            .redirectErrorStream(true);
    Process p = pb.start();
    p.getOutputStream().write("quit\n".getBytes(StandardCharsets.US_ASCII));
    p.getOutputStream().close();
    String out;
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return "the probe did not quit within 20 s";
    }
    out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.exitValue() != 0 || out.contains("error")) {
      return out.lines()
          .filter(l -> l.contains("error"))
          .findFirst()
          .orElse("exit " + p.exitValue())
          .trim();
    }
    return null;
  }

  private static String run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(10, TimeUnit.SECONDS);
    return out;
  }
}
