package org.xsm.server.nbd;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.xsm.api.VdiDevice;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.SrService;

/**
 * The NBD server's on-demand exports: a name {@code <vdi-uuid>.<token>} with the VDI's token
 * attaches the VDI (read-only for snapshots and read-only VDIs) through the SR; the last client's
 * departure detaches it. A read-only attachment is shared with the VDI's other readers (an HTTP
 * export of the same snapshot), so a client's late-noticed disconnect cannot refuse them.
 *
 * <p>Crash safety: nothing is kept; an attach is the SR's, undone by the next start (no VM or
 * client survives a restart). Writes through a writable on-demand export are durable once the
 * client's flush is answered, as for any export.
 */
final class OnDemandVdis implements NbdServer.OnDemand {
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(OnDemandVdis.class);

  private final Database db;
  private final SrService storage;
  private final Function<Ref<Vdi>, String> tokens;

  OnDemandVdis(Database db, SrService storage, Function<Ref<Vdi>, String> tokens) {
    this.db = db;
    this.storage = storage;
    this.tokens = tokens;
  }

  /** Whether the server can serve the VDI: its SR is attached and its data is there. */
  static boolean servable(Database db, SrService storage, Ref<Vdi> vdi) throws XenApiException {
    return storage.attachedSrs().containsKey(db.get(vdi, Vdi.SR))
        && db.get(vdi, Vdi.TYPE) != VdiType.CBT_METADATA;
  }

  /** The VDI a name names with its right token, if any (constant-time token comparison). */
  private Optional<Ref<Vdi>> resolve(String name) {
    int dot = name.indexOf('.');
    if (dot < 0) {
      return Optional.empty();
    }
    List<Ref<Vdi>> refs = db.where(Vdi.UUID, name.substring(0, dot));
    if (refs.isEmpty()) {
      return Optional.empty();
    }
    Ref<Vdi> vdi = refs.get(0);
    byte[] want = tokens.apply(vdi).getBytes(StandardCharsets.US_ASCII);
    byte[] got = name.substring(dot + 1).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(want, got) ? Optional.of(vdi) : Optional.empty();
  }

  private boolean readOnly(Ref<Vdi> vdi) throws XenApiException {
    return db.get(vdi, Vdi.IS_A_SNAPSHOT) || db.get(vdi, Vdi.READ_ONLY);
  }

  @Override
  public Optional<NbdServer.Description> describe(String name) {
    try {
      Optional<Ref<Vdi>> vdi = resolve(name);
      if (vdi.isEmpty() || !servable(db, storage, vdi.get())) {
        return Optional.empty();
      }
      return Optional.of(
          new NbdServer.Description(db.get(vdi.get(), Vdi.VIRTUAL_SIZE), readOnly(vdi.get())));
    } catch (XenApiException e) {
      LOG.debugf(e, "NBD name %s names no VDI now", name);
      return Optional.empty();
    }
  }

  @Override
  public Optional<NbdServer.Attached> attach(String name) {
    Optional<Ref<Vdi>> found = resolve(name);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    Ref<Vdi> vdi = found.get();
    try {
      if (!servable(db, storage, vdi)) {
        return Optional.empty();
      }
      if (readOnly(vdi)) {
        org.xsm.server.sr.ReadShares.Lease lease = storage.readShared(vdi);
        return Optional.of(new NbdServer.Attached(lease.device(), true, () -> release(lease)));
      }
      VdiDevice d = storage.activate(vdi, true);
      return Optional.of(new NbdServer.Attached(d, false, () -> detach(vdi)));
    } catch (XenApiException e) {
      LOG.infof(e, "NBD client's VDI %s cannot be attached", vdi);
      return Optional.empty();
    }
  }

  private static void release(org.xsm.server.sr.ReadShares.Lease lease) {
    try {
      lease.close();
    } catch (XenApiException e) {
      LOG.warnf(e, "a read-only VDI held for NBD clients could not be released");
    }
  }

  private void detach(Ref<Vdi> vdi) {
    try {
      storage.deactivate(vdi);
    } catch (XenApiException e) {
      LOG.warnf(e, "VDI %s attached for NBD clients could not be detached", vdi);
    }
  }
}
