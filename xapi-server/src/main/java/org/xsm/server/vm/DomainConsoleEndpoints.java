package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import org.xsm.server.db.Database;
import org.xsm.server.domain.Domains;
import org.xsm.server.guestconsole.ConsoleEndpoint;
import org.xsm.server.guestconsole.ConsoleEndpoints;
import org.xsm.server.model.ConsoleProtocol;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;

/**
 * The consoles of VMs whose domains serve them (QEMU: its VNC server and first serial port, as UNIX
 * sockets), for the console proxy. The VM's UUID is read from the in-memory records; the domain
 * answers from memory.
 */
@ApplicationScoped
public class DomainConsoleEndpoints implements ConsoleEndpoints {
  @Inject Database db;
  @Inject VmDomains domains;

  @Override
  public Optional<ConsoleEndpoint> find(Ref<Vm> vm, ConsoleProtocol protocol) {
    Domains.Console which =
        switch (protocol) {
          case RFB -> Domains.Console.SCREEN;
          case VT100 -> Domains.Console.SERIAL;
          default -> null;
        };
    if (which == null) {
      return Optional.empty();
    }
    String uuid;
    try {
      uuid = db.get(vm, Vm.UUID);
    } catch (XenApiException e) {
      return Optional.empty(); // no such VM (any more): no console
    }
    return domains.domains().console(uuid, which).map(ConsoleEndpoint::unixSocket);
  }
}
