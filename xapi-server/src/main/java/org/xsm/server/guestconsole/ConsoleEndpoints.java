package org.xsm.server.guestconsole;

import java.util.Optional;
import org.xsm.server.model.ConsoleProtocol;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vm;

/**
 * What a domain implementation tells the console proxy: where a running VM's consoles are. An
 * implementation is a CDI bean ({@code @ApplicationScoped}); the proxy asks every bean and takes
 * the first answer, so implementations for different kinds of domain live side by side. The
 * simulated domains have none: their VMs have an RFB console record whose connection answers 404.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link ConsoleProtocol#RFB}: the VM's VNC server (RFB 3.x, no VNC password: the proxy has
 *       already checked the XenAPI session and role). {@link ConsoleProtocol#VT100}: its first
 *       serial port as a byte stream. RDP is never asked.
 *   <li>An answer is given for a VM this implementation runs, from the moment its power state
 *       becomes Running (the console records are made then, a VT100 one only if this answers) until
 *       it halts; otherwise empty. The endpoint must accept several connections in turn (QEMU's
 *       socket chardevs accept one client at a time; its VNC server several).
 *   <li>Called from any thread, including while a XenAPI call holds the database: it must not call
 *       back into the database or block on I/O.
 * </ul>
 */
public interface ConsoleEndpoints {
  /** Where the running VM serves its console of that protocol, if it has one. */
  Optional<ConsoleEndpoint> find(Ref<Vm> vm, ConsoleProtocol protocol);
}
