package org.xsm.server.nbd;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.xsm.api.VdiDevice;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.Network;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.sr.SrService;

/**
 * The XenAPI side of the NBD server, as xapi's: {@code VDI.get_nbd_info} answers for every VDI of
 * an attached SR ({@code vdi_nbd_server_info} records), and a client that connects with a VDI's
 * name gets the VDI attached for it (read-only for snapshots and read-only VDIs, whose writes are
 * refused with {@code EPERM}), detached when its last client leaves. A VDI attached to a running VM
 * or to the control domain is exported while attached under the same name, on the VM's device.
 *
 * <p>An export's name is {@code <vdi-uuid>.<128-bit random token>}: the token is made per VDI when
 * first needed and kept while the server runs, so a name cannot be guessed and a client may
 * reconnect (Xen Orchestra opens several connections, and reopens them). A name whose VDI is gone
 * names nothing. While a client holds a VDI attached, attaching it elsewhere (a VM start, an HTTP
 * transfer) fails with {@code VDI_IN_USE}, as any second attach does.
 *
 * <p>TLS as xapi: the server offers {@code NBD_OPT_STARTTLS} with the host certificate and requires
 * it, unless a network has the purpose {@code insecure_nbd}, which allows plain NBD (and then
 * {@code get_nbd_info} gives no certificate). With TLS, {@code get_nbd_info}'s {@code cert} is the
 * host certificate (PEM), which clients trust, and {@code subject} the name it is for.
 */
@ApplicationScoped
public class NbdService implements RpcModule {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(NbdService.class);

  @Inject Database db;
  @Inject org.xsm.server.host.HostService hostService;
  @Inject org.xsm.server.tls.HostCertificate certificate;
  @Inject SrService storage;

  @ConfigProperty(name = "xsm.nbd.port", defaultValue = "10809")
  int port;

  @ConfigProperty(name = "xsm.nbd.bind", defaultValue = "0.0.0.0")
  String bind;

  /** The address clients are given; the host record's address when not set. */
  @ConfigProperty(name = "xsm.nbd.address")
  java.util.Optional<String> address;

  @Inject org.xsm.server.runtime.RunDirectory runDirectory;

  private final Map<String, String> exportOfVdi = new ConcurrentHashMap<>();

  /** Each VDI's access token, by VDI reference. */
  private final Map<String, String> tokens = new ConcurrentHashMap<>();

  private final Map<String, String> localExportOfVdi = new ConcurrentHashMap<>();
  private volatile NbdServer server;
  private NbdServer local;

  /** Where a domain on this host reaches a VDI: a UNIX socket and the export's name. */
  public record LocalExport(java.nio.file.Path socket, String name) {}

  /**
   * The local NBD server, started on first use: a UNIX socket in the run directory, plain NBD.
   * Domains of this host (QEMU) reach their disks through it rather than through the TCP server,
   * whose TLS rule would make every QEMU carry the host's key: the socket's directory is mode 0700,
   * so only the server's own user can connect, and its path (like each export's name, the VDI's
   * UUID) is the same after a restart, so a domain left running reconnects to it.
   */
  private synchronized NbdServer local() throws IOException {
    if (local == null) {
      local = NbdServer.startUnix(runDirectory.path().resolve("nbd.sock"), 4);
    }
    return local;
  }

  /** Where a domain reaches the VDI now, if it is exported on the local socket. */
  public java.util.Optional<LocalExport> localExport(String vdiRef) {
    return onSocket(localExportOfVdi.get(vdiRef));
  }

  private java.util.Optional<LocalExport> onSocket(String name) {
    if (name == null) {
      return java.util.Optional.empty();
    }
    try {
      return java.util.Optional.of(new LocalExport(runDirectory.path().resolve("nbd.sock"), name));
    } catch (IOException e) {
      LOG.warnf(e, "run directory unavailable");
      return java.util.Optional.empty();
    }
  }

  /** The local export of that name (a pool member's agent), if there is one. */
  public java.util.Optional<LocalExport> localExportNamed(String name) {
    return onSocket(localExportOfVdi.containsValue(name) ? name : null);
  }

  /** Exports an activated VDI on the local socket, named by its UUID, for a domain of this host. */
  public LocalExport exportLocal(String vdiRef, VdiDevice device, boolean readOnly)
      throws XenApiException {
    return exportLocalNamed(vdiRef, db.get(Ref.<Vdi>of(vdiRef), Vdi.UUID), device, readOnly);
  }

  /**
   * {@link #exportLocal} by a name given (the VDI's UUID): a pool member's agent, which has no
   * records, exports the master's VDIs so, keyed by the master's reference.
   */
  public LocalExport exportLocalNamed(
      String vdiRef, String name, VdiDevice device, boolean readOnly) throws XenApiException {
    try {
      NbdServer s = local();
      String old = localExportOfVdi.remove(vdiRef);
      if (old != null) {
        s.unexport(old);
      }
      s.unexport(name);
      s.export(name, device, readOnly);
      localExportOfVdi.put(vdiRef, name);
      return new LocalExport(runDirectory.path().resolve("nbd.sock"), name);
    } catch (IOException e) {
      throw new XenApiException(XenApiError.INTERNAL_ERROR, "local NBD socket: " + e.getMessage());
    }
  }

  /**
   * Holds guest I/O on the local exports of these VDIs (those a domain of this host uses) for a
   * point-in-time switch; VDIs without one are not held. See {@link IoHold}.
   */
  public IoHold holdLocal(java.util.Collection<String> vdiRefs, String what) {
    List<NbdExport> exports = new java.util.ArrayList<>();
    synchronized (this) {
      for (String vdi : vdiRefs) {
        String name = localExportOfVdi.get(vdi);
        if (name != null && local != null) {
          local.find(name).ifPresent(exports::add);
        }
      }
    }
    return IoHold.of(exports, what);
  }

  /** What runs while a VDI's exports are held for a switch of device. */
  @FunctionalInterface
  public interface UnderHold {
    void run() throws XenApiException;
  }

  /**
   * Moves a VDI's exports (the TCP one clients use and the local one of its domain) to {@code
   * device}, now the device of {@code toVdiRef}, with their I/O held (requests in progress finish,
   * new ones wait) while {@code underHold} runs (the records' switch): the clients and the guest
   * carry on with the new device and never see the change. Same VDI for both: only the device
   * changes. Returns how long I/O was held, in nanoseconds (0 if the VDI was not exported).
   */
  public long moveExports(String fromVdiRef, String toVdiRef, VdiDevice device, UnderHold underHold)
      throws XenApiException {
    List<NbdExport> exports = new java.util.ArrayList<>();
    String tcpName = exportOfVdi.get(fromVdiRef);
    String localName;
    synchronized (this) {
      localName = localExportOfVdi.get(fromVdiRef);
      if (localName != null && local != null) {
        local.find(localName).ifPresent(exports::add);
      }
    }
    if (tcpName != null && server != null) {
      server.find(tcpName).ifPresent(exports::add);
    }
    IoHold hold = IoHold.of(exports, "device switch of VDI " + fromVdiRef);
    try (hold) {
      for (NbdExport e : exports) {
        e.replaceDevice(device);
      }
      underHold.run();
      if (!fromVdiRef.equals(toVdiRef)) {
        if (tcpName != null) {
          // Connected clients keep the old name; new ones get the new VDI's (get_nbd_info).
          exportOfVdi.remove(fromVdiRef);
          List<String> former =
              new java.util.ArrayList<>(formerNames.getOrDefault(fromVdiRef, List.of()));
          formerNames.remove(fromVdiRef);
          former.add(tcpName);
          formerNames.put(toVdiRef, former);
          String newName = exportName(Ref.of(toVdiRef));
          server.export(newName, device, device.readOnly());
          exportOfVdi.put(toVdiRef, newName);
        }
        if (localName != null) {
          localExportOfVdi.remove(fromVdiRef);
          localExportOfVdi.put(toVdiRef, localName);
        }
      }
    }
    return Math.max(0, hold.heldNanos());
  }

  void onStart(@Observes StartupEvent ev) {
    try {
      server =
          NbdServer.start(
              new InetSocketAddress(bind, port), Runtime.getRuntime().availableProcessors() * 2);
      server.tls(certificate.identity().sslContext(), this::insecureAllowed);
      server.onDemand(new OnDemandVdis(db, storage, this::tokenOf));
      certificate.onChange(
          () -> server.tls(certificate.identity().sslContext(), this::insecureAllowed));
    } catch (IOException e) {
      // As on xapi, where the NBD server is a service of its own: the XenAPI keeps working, no
      // disk is exported, VDI.get_nbd_info answers with no records.
      LOG.errorf(e, "NBD server cannot listen on %s:%d; disks will not be exported", bind, port);
    }
  }

  void onStop(@Observes ShutdownEvent ev) throws IOException {
    synchronized (this) {
      if (local != null) {
        local.close();
      }
    }
    if (server != null) {
      server.close();
    }
  }

  /** Exports an activated VDI under a fresh name (replacing an earlier export of it). */
  public void exportVdi(String vdiRef, VdiDevice device, boolean readOnly) throws XenApiException {
    unexportVdi(vdiRef);
    if (server == null) {
      return;
    }
    String name = exportName(Ref.of(vdiRef));
    boolean ro =
        readOnly
            || db.get(Ref.<Vdi>of(vdiRef), Vdi.READ_ONLY)
            || db.get(Ref.<Vdi>of(vdiRef), Vdi.IS_A_SNAPSHOT);
    server.export(name, device, ro);
    exportOfVdi.put(vdiRef, name);
  }

  /**
   * Names a moved VDI's export still answers to for the clients connected before the move (its old
   * VDI's name), by the VDI now behind them; closed with the VDI's export.
   */
  private final Map<String, List<String>> formerNames = new ConcurrentHashMap<>();

  /** Ends a VDI's export and drops its connections, before the VDI is deactivated. */
  public void unexportVdi(String vdiRef) {
    List<String> former = formerNames.remove(vdiRef);
    if (former != null && server != null) {
      for (String n : former) {
        server.find(n).ifPresent(e -> retire(vdiRef, e));
        server.unexport(n);
      }
    }
    String localName = localExportOfVdi.remove(vdiRef);
    synchronized (this) {
      if (localName != null && local != null) {
        local.unexport(localName);
      }
    }
    String name = exportOfVdi.remove(vdiRef);
    if (name != null && server != null) {
      server.find(name).ifPresent(e -> retire(vdiRef, e));
      server.unexport(name);
    }
  }

  /** Bytes read and written through a VDI's exports since the server started. */
  public record IoTotals(long bytesRead, long bytesWritten) {}

  /** What ended exports of each VDI served (so totals do not drop when a VDI is re-exported). */
  private final Map<String, IoTotals> retired = new ConcurrentHashMap<>();

  private void retire(String vdiRef, NbdExport e) {
    retired.merge(
        vdiRef,
        new IoTotals(e.bytesRead(), e.bytesWritten()),
        (a, b) -> new IoTotals(a.bytesRead() + b.bytesRead(), a.bytesWritten() + b.bytesWritten()));
  }

  /**
   * Whether NBD clients hold the VDI attached on demand now. It is released when the server sees
   * the last client's connection end, a moment after the client has gone: a caller about to attach
   * the VDI elsewhere may wait for this to turn false.
   */
  public boolean heldByClients(Ref<Vdi> vdi) throws XenApiException {
    NbdServer s = server;
    return s != null && s.find(exportName(vdi)).map(NbdExport::onDemand).orElse(false);
  }

  /** The device a VDI's export serves now (the VDI must be exported). */
  public VdiDevice deviceOf(String vdiRef) throws XenApiException {
    String name = exportOfVdi.get(vdiRef);
    java.util.Optional<NbdExport> e =
        name == null || server == null ? java.util.Optional.empty() : server.find(name);
    if (e.isEmpty()) {
      throw new XenApiException(XenApiError.VDI_MISSING, vdiRef, "not exported");
    }
    return e.get().device();
  }

  /** The VDIs exported now. */
  public java.util.Set<String> exportedVdis() {
    return java.util.Set.copyOf(exportOfVdi.keySet());
  }

  /** A VDI's NBD I/O since the server started (the statistics read it every few seconds). */
  public IoTotals ioTotals(String vdiRef) {
    IoTotals before = retired.getOrDefault(vdiRef, new IoTotals(0, 0));
    String name = exportOfVdi.get(vdiRef);
    NbdExport now = name == null || server == null ? null : server.find(name).orElse(null);
    return now == null
        ? before
        : new IoTotals(
            before.bytesRead() + now.bytesRead(), before.bytesWritten() + now.bytesWritten());
  }

  @Override
  public void register(Dispatcher d) {
    d.register("VDI.get_nbd_info", 2, true, false, (c, a) -> nbdInfo(Params.str(a, 0)));
  }

  /** The VDI's token, made when first asked for. */
  private String tokenOf(Ref<Vdi> vdi) {
    return tokens.computeIfAbsent(
        vdi.value(),
        k -> {
          byte[] token = new byte[16];
          RANDOM.nextBytes(token);
          return HexFormat.of().formatHex(token);
        });
  }

  private String exportName(Ref<Vdi> vdi) throws XenApiException {
    return db.get(vdi, Vdi.UUID) + "." + tokenOf(vdi);
  }

  /**
   * {@code vdi_nbd_server_info} records: one for a VDI the server can serve (its SR attached, its
   * data not destroyed), none otherwise or when the NBD server is not listening.
   */
  List<Map<String, Object>> nbdInfo(String vdiRef) throws XenApiException {
    Ref<Vdi> vdi = Ref.of(vdiRef);
    if (!db.exists(Vdi.CLASS, vdi)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "VDI", vdiRef);
    }
    if (server == null || !OnDemandVdis.servable(db, storage, vdi)) {
      return List.of();
    }
    String name = exportName(vdi);
    Map<String, Object> r = new HashMap<>();
    r.put("exportname", name);
    r.put("address", address.orElseGet(this::hostAddress));
    r.put("port", (long) server.port());
    boolean plain = insecureAllowed();
    r.put("cert", plain ? "" : certificate.identity().certPem());
    r.put("subject", plain ? "" : certificate.identity().subject());
    return List.of(r);
  }

  /** Whether plain NBD is allowed: a network has the purpose {@code insecure_nbd}, as in xapi. */
  boolean insecureAllowed() {
    for (Ref<Network> n : db.all(Network.CLASS)) {
      try {
        if (db.get(n, Network.PURPOSE).contains("insecure_nbd")) {
          return true;
        }
      } catch (XenApiException e) {
        // destroyed meanwhile: it allows nothing
      }
    }
    return false;
  }

  private String hostAddress() {
    Ref<Host> host = hostService.host();
    try {
      return host.isNull() ? "127.0.0.1" : db.get(host, Host.ADDRESS);
    } catch (XenApiException e) {
      return "127.0.0.1"; // the host record went away meanwhile
    }
  }
}
