package org.xsm.server.guestconsole;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;
import org.xsm.server.audit.AuditLog;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Console;
import org.xsm.server.model.ConsoleProtocol;
import org.xsm.server.model.Host;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rbac.Rbac;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.session.Sessions;
import org.xsm.server.tls.HttpsServer;

/**
 * The consoles of running VMs: where the domain implementations ({@link ConsoleEndpoints}) serve
 * them, the {@code location} of their records, and the checks before a client is connected (xapi's
 * {@code console.ml}): a valid session, the permission {@code http/connect_console} (or {@code
 * http/connect_console_ws}; vm-operator and above, as xapi), a console or VM reference (a VM means
 * its RFB console) or uuid, a VM running here with an endpoint for that console.
 */
@ApplicationScoped
public class GuestConsoles {
  private static final Logger LOG = Logger.getLogger(GuestConsoles.class);

  @Inject @Any Instance<ConsoleEndpoints> implementations;
  @Inject Database db;
  @Inject HostService hosts;
  @Inject HttpsServer https;
  @Inject Sessions sessions;
  @Inject Rbac rbac;
  @Inject AuditLog audit;

  /** How a client asks for a console: xapi's query parameters and where it came from. */
  public record Request(
      String ref, String uuid, String sessionId, String source, boolean webSocket) {
    /** Without the session: it is a credential. */
    @Override
    public String toString() {
      return (webSocket ? "WebSocket" : "CONNECT")
          + " ref="
          + ref
          + " uuid="
          + uuid
          + " from "
          + source;
    }
  }

  /** An accepted connection: the console, its VM and protocol, and the open channel to it. */
  public record Connection(
      Ref<Console> console, Ref<Vm> vm, ConsoleProtocol protocol, SocketChannel channel) {
    @Override
    public String toString() {
      return protocol.wire() + " console " + console.value() + " of VM " + vm.value();
    }
  }

  /** Where the running VM serves its console of that protocol, if any implementation knows. */
  public Optional<ConsoleEndpoint> endpoint(Ref<Vm> vm, ConsoleProtocol protocol) {
    for (ConsoleEndpoints e : implementations) {
      Optional<ConsoleEndpoint> found = e.find(vm, protocol);
      if (found.isPresent()) {
        return found;
      }
    }
    return Optional.empty();
  }

  /**
   * The {@code location} of a console record: xapi's {@code https://<host address>/console?ref=},
   * with the HTTPS port when it is not 443 (clients connect to what the location says).
   */
  public String location(Ref<Console> console) throws XenApiException {
    Ref<Host> host = hosts.host();
    String address = db.exists(Host.CLASS, host) ? db.get(host, Host.ADDRESS) : "127.0.0.1";
    if (address.indexOf(':') >= 0) {
      address = "[" + address + "]";
    }
    int port = https.publicPort();
    String authority = port > 0 && port != 443 ? address + ":" + port : address;
    return "https://" + authority + "/console?ref=" + console.value();
  }

  /**
   * Checks a request and connects to the console's endpoint (blocking: call it off the event loop).
   * The caller owns the channel of the answer.
   */
  public Connection open(Request r) throws ConsoleDenied {
    String action = r.webSocket() ? "connect_console_ws" : "connect_console";
    CallContext caller;
    try {
      caller = sessions.validate(String.valueOf(r.sessionId()));
    } catch (XenApiException e) {
      throw new ConsoleDenied(401, e.code(), "session_id is missing or invalid");
    }
    List<String> what = List.of(String.valueOf(r.ref() != null ? r.ref() : r.uuid()));
    try {
      rbac.checkHttp(caller, action);
    } catch (XenApiException e) {
      audit.transfer(caller, r.source(), action, what, e.code());
      throw new ConsoleDenied(403, e.code(), String.join(" ", e.params()));
    }
    try {
      Ref<Console> console = console(r);
      Row<Console> c = db.read(Console.CLASS, console);
      Ref<Vm> vm = c.get(Console.VM);
      PowerState state = db.get(vm, Vm.POWER_STATE);
      if (state != PowerState.RUNNING) {
        throw new ConsoleDenied(404, "VM_BAD_POWER_STATE", "the VM is " + state.wire());
      }
      ConsoleProtocol protocol = c.get(Console.PROTOCOL);
      ConsoleEndpoint endpoint =
          endpoint(vm, protocol)
              .orElseThrow(
                  () ->
                      new ConsoleDenied(
                          404,
                          "HANDLE_INVALID",
                          "the VM has no " + protocol.wire() + " console on this host"));
      SocketChannel channel;
      try {
        channel = endpoint.connect();
      } catch (IOException e) {
        LOG.warnf("console %s of VM %s: %s refused: %s", console, vm, endpoint, e.getMessage());
        throw new ConsoleDenied(502, "INTERNAL_ERROR", "the VM's console does not answer", e);
      }
      audit.transfer(caller, r.source(), action, List.of(console.value()), "started");
      return new Connection(console, vm, protocol, channel);
    } catch (ConsoleDenied e) {
      audit.transfer(caller, r.source(), action, what, e.code());
      throw e;
    } catch (XenApiException e) {
      audit.transfer(caller, r.source(), action, what, e.code());
      throw new ConsoleDenied(404, e.code(), String.join(" ", e.errorDescription()));
    }
  }

  /** The console asked for: xapi takes a console or VM reference, or a VM or console uuid. */
  private Ref<Console> console(Request r) throws ConsoleDenied, XenApiException {
    String ref = r.ref();
    if (ref == null && r.uuid() != null) {
      List<Ref<Vm>> vms = db.where(Vm.UUID, r.uuid());
      List<Ref<Console>> consoles = db.where(Console.UUID, r.uuid());
      ref =
          !vms.isEmpty() ? vms.get(0).value() : !consoles.isEmpty() ? consoles.get(0).value() : "";
      if (ref.isEmpty()) {
        throw new ConsoleDenied(404, "UUID_INVALID", "no VM or console " + r.uuid());
      }
    }
    if (ref == null) {
      throw new ConsoleDenied(400, "INVALID_VALUE", "the request names no console: ref or uuid");
    }
    XClass<?> cls = db.classOf(ref);
    if (cls == Console.CLASS) {
      return Ref.of(ref);
    }
    if (cls == Vm.CLASS) {
      for (Ref<Console> c : db.get(Ref.<Vm>of(ref), Vm.CONSOLES)) {
        if (db.get(c, Console.PROTOCOL) == ConsoleProtocol.RFB) {
          return c;
        }
      }
      throw new ConsoleDenied(404, "HANDLE_INVALID", "VM " + ref + " has no RFB console");
    }
    throw new ConsoleDenied(404, "HANDLE_INVALID", ref + " is neither a console nor a VM");
  }
}
