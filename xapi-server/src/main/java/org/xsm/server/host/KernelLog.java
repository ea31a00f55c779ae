package org.xsm.server.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/** The kernel's message buffer ({@code host.dmesg}), as {@code dmesg} prints it. */
final class KernelLog {
  private static final Logger LOG = Logger.getLogger(KernelLog.class);

  private KernelLog() {}

  static String read() {
    try {
      Process p = new ProcessBuilder("dmesg").redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      LOG.debugf("dmesg failed: %s", e.getMessage());
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }
}
