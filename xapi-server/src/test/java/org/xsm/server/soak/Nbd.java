package org.xsm.server.soak;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * NBD reads and writes of a worker's disks with qemu-io, where {@code VDI.get_nbd_info} says (the
 * server's NBD port, TLS with the certificate it gives, the VDI attached on demand).
 */
final class Nbd {
  private final Worker w;

  Nbd(Worker w) {
    this.w = w;
  }

  /** A few blocks written, each with one value; the model follows once qemu-io flushed them. */
  void write(Disk d) throws Rpc.Failure, IOException, InterruptedException {
    List<String> commands = new ArrayList<>();
    int n = 1 + w.random.nextInt(3);
    int[] blocks = new int[n];
    byte[] values = new byte[n];
    for (int i = 0; i < n; i++) {
      blocks[i] = w.random.nextInt(d.values.length);
      values[i] = (byte) (1 + w.random.nextInt(255));
      commands.add("write -P " + (values[i] & 0xff) + " " + (long) blocks[i] * Disk.BLOCK + " 64k");
    }
    commands.add("flush");
    d.unknown = true; // until qemu-io says every write and the flush were answered
    qemuIo(d, false, commands);
    for (int i = 0; i < n; i++) {
      d.values[blocks[i]] = values[i];
    }
    d.unknown = false;
  }

  /** A few blocks read and compared with what was acknowledged. */
  void read(Disk d) throws Rpc.Failure, IOException, InterruptedException {
    List<String> commands = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      int b = w.random.nextInt(d.values.length);
      commands.add("read -P " + (d.values[b] & 0xff) + " " + (long) b * Disk.BLOCK + " 64k");
    }
    String out = qemuIo(d, true, commands);
    if (out.contains("Pattern verification failed")) {
      w.stats.inconsistency(
          "NBD read of VDI " + d.uuid + " differs from what was acknowledged: " + out);
    }
  }

  private String qemuIo(Disk d, boolean readOnly, List<String> commands)
      throws Rpc.Failure, IOException, InterruptedException {
    List<?> infos = (List<?>) w.rpc.call("VDI.get_nbd_info", w.session, d.ref);
    if (infos.isEmpty()) {
      throw new Rpc.Failure(List.of("NO_NBD_INFO", d.uuid));
    }
    Map<?, ?> info = (Map<?, ?>) infos.get(0);
    Path ca = Files.createTempDirectory("xsm-soak-nbd");
    try {
      Files.writeString(ca.resolve("ca-cert.pem"), String.valueOf(info.get("cert")));
      List<String> cmd = new ArrayList<>(List.of("/usr/bin/qemu-io"));
      if (readOnly) {
        cmd.add("-r");
      }
      for (String c : commands) {
        cmd.addAll(List.of("-c", c));
      }
      cmd.addAll(
          List.of(
              "--object",
              "tls-creds-x509,id=tls0,endpoint=client,dir=" + ca,
              "--image-opts",
              "driver=raw,file.driver=nbd,file.server.type=inet,file.server.host="
                  + info.get("address")
                  + ",file.server.port="
                  + info.get("port")
                  + ",file.export="
                  + info.get("exportname")
                  + ",file.tls-creds=tls0"));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("qemu-io did not end: " + out);
      }
      boolean failed =
          p.exitValue() != 0
              || out.contains("failed:")
              || out.contains("Failed")
              || (out.contains("error") && !out.contains("Pattern verification failed"));
      if (failed && !out.contains("Pattern verification failed")) {
        throw new IOException("qemu-io on VDI " + d.uuid + ": " + out.strip());
      }
      return out;
    } finally {
      Files.deleteIfExists(ca.resolve("ca-cert.pem"));
      Files.deleteIfExists(ca);
    }
  }
}
