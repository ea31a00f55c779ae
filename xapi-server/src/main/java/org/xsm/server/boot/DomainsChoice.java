package org.xsm.server.boot;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import java.util.Locale;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.xsm.server.domain.Domains;
import org.xsm.server.domain.qemu.QemuDomains;
import org.xsm.server.domain.qemu.QemuInstallation;
import org.xsm.server.domain.simulator.MemoryImages;
import org.xsm.server.domain.simulator.SimulatedDomains;
import org.xsm.server.runtime.RunDirectory;

/**
 * Chooses this host's {@link Domains}: {@code XSM_DOMAINS=qemu|simulator} forces one; unset (or
 * {@code auto}), QEMU when {@code qemu-system-x86_64} is installed, else the simulator. The choice
 * and the reason are logged once.
 */
@ApplicationScoped
public class DomainsChoice {
  private static final Logger LOG = Logger.getLogger(DomainsChoice.class);

  @ConfigProperty(name = "xsm.domains", defaultValue = "auto")
  String choice;

  @Inject MemoryImages memory;

  /** Where other hosts reach this one: its live migrations are received on that address. */
  @ConfigProperty(name = "xsm.host.address")
  java.util.Optional<String> hostAddress;

  private String migrationAddress() {
    return hostAddress.filter(a -> !a.isBlank()).orElse("127.0.0.1");
  }

  @Inject RunDirectory runDirectory;

  @Produces
  @ApplicationScoped
  Domains domains() {
    String c = choice.trim().toLowerCase(Locale.ROOT);
    switch (c) {
      case "simulator":
        LOG.info("Domains: simulated (XSM_DOMAINS=simulator)");
        return new SimulatedDomains(memory, migrationAddress());
      case "qemu":
        return qemu(
            QemuInstallation.detect()
                .orElseThrow(
                    () ->
                        new IllegalStateException(
                            "XSM_DOMAINS=qemu but qemu-system-x86_64 is not installed")));
      case "auto":
        var found = QemuInstallation.detect();
        if (found.isPresent()) {
          return qemu(found.get());
        }
        LOG.info("Domains: simulated (qemu-system-x86_64 is not installed)");
        return new SimulatedDomains(memory, migrationAddress());
      default:
        throw new IllegalStateException(
            "XSM_DOMAINS must be qemu, simulator or auto, not '" + choice + "'");
    }
  }

  private Domains qemu(QemuInstallation q) {
    LOG.infof("Domains: QEMU %s (%s) with %s", q.binary(), q.version(), q.accelerationReason());
    return new QemuDomains(
        q, runDirectory, runDirectory.dataDir().resolve("domains"), migrationAddress());
  }
}
