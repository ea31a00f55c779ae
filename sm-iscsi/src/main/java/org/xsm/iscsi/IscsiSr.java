package org.xsm.iscsi;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.xsm.api.ChangedBlocks;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrStats;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.iscsi.control.ControlApiException;
import org.xsm.iscsi.control.ControlClient;
import org.xsm.iscsi.control.Lun;
import org.xsm.iscsi.control.PoolStats;
import org.xsm.iscsi.initiator.InitiatorConfig;
import org.xsm.iscsi.initiator.IscsiSession;
import org.xsm.iscsi.initiator.ScsiDisk;

/**
 * An attached iSCSI SR: the LUNs of the array whose metadata names this SR, one iSCSI session to
 * the array's target for the devices of its active VDIs.
 *
 * <p>VDI = LUN; location = the LUN's id. Snapshots and clones are the array's own (no VHD): a
 * snapshot is a read-only LUN, a clone a writable one, each independent of its source afterwards
 * (the array's copy-on-write pool shares the blocks). There are no base copies and no chains, so no
 * garbage collector and no chain limit.
 *
 * <p>Crash safety: every change is one control API call that the array applies atomically, with the
 * LUN's metadata in the same call, so a crash leaves either no new LUN or a complete one. A crash
 * after the array made a LUN but before the caller heard of it leaves a complete VDI with its
 * metadata, which the next scan lists (as a FileSR scan introduces a VHD it finds). Attachment
 * state is per host and in memory: after a crash nothing is attached. Metadata updates read, merge
 * and write the map; they are serialized per SR so that two updates on this host do not lose each
 * other's keys.
 */
final class IscsiSr implements Sr {
  private final IscsiDriver driver;
  private final String uuid;
  private final ControlClient client;
  private final IscsiSession session;
  private final Map<String, Attachment> attached = new HashMap<>(); // guarded by this
  private boolean detached; // guarded by this

  /** A VDI attached on this host, and its device while active. */
  private static final class Attachment {
    final int lunNumber;
    final boolean readOnly;

    /** A session of this attachment's own (activated from a generated config), or null. */
    final IscsiSession ownSession;

    IscsiVdiDevice device;

    Attachment(int lunNumber, boolean readOnly, IscsiSession ownSession) {
      this.lunNumber = lunNumber;
      this.readOnly = readOnly;
      this.ownSession = ownSession;
    }
  }

  IscsiSr(IscsiDriver driver, String uuid, ControlClient client, IscsiSession session) {
    this.driver = driver;
    this.uuid = uuid;
    this.client = client;
    this.session = session;
  }

  @Override
  public String uuid() {
    return uuid;
  }

  @Override
  public void detach() throws SmException {
    synchronized (this) {
      checkAttached();
      if (!attached.isEmpty()) {
        throw new SmException(
            SmError.SR_IN_USE, "SR " + uuid + " still has attached VDIs: " + attached.keySet());
      }
      detached = true;
    }
    session.close();
    driver.detached(uuid);
  }

  private synchronized void checkAttached() throws SmException {
    if (detached) {
      throw new SmException(SmError.SR_NOT_ATTACHED, "SR " + uuid + " is detached");
    }
  }

  @Override
  public List<VdiInfo> scan() throws SmException {
    checkAttached();
    List<VdiInfo> vdis = new ArrayList<>();
    for (Lun lun : client.listLuns()) {
      if (LunMetadata.isVdiOf(lun, uuid)) {
        vdis.add(LunMetadata.info(lun));
      }
    }
    return vdis;
  }

  @Override
  public SrStats stats() throws SmException {
    checkAttached();
    PoolStats pool = client.pool();
    long virtual = 0;
    for (Lun lun : client.listLuns()) {
      if (LunMetadata.isVdiOf(lun, uuid)) {
        virtual += lun.sizeBytes();
      }
    }
    return new SrStats(pool.capacityBytes(), pool.physicalUsedBytes(), virtual);
  }

  @Override
  public void update() throws SmException {
    checkAttached();
    driver.record(client, uuid);
  }

  /** The LUN of one of this SR's VDIs. */
  Lun lun(String location) throws SmException {
    checkAttached();
    Lun lun;
    try {
      lun = client.getLun(location);
    } catch (ControlApiException e) {
      if (e.error() == SmError.VDI_MISSING) {
        throw new SmException(
            SmError.VDI_MISSING,
            "no VDI " + location + " on SR " + uuid + ": " + e.getMessage(),
            e);
      }
      throw e;
    }
    if (!LunMetadata.isVdiOf(lun, uuid)) {
      throw new SmException(SmError.VDI_MISSING, "LUN " + location + " is not a VDI of SR " + uuid);
    }
    return lun;
  }

  @Override
  public VdiInfo createVdi(long sizeBytes, VdiMetadata metadata) throws SmException {
    checkAttached();
    if (sizeBytes <= 0) {
      throw new SmException(SmError.VDI_SIZE, "VDI size must be positive, not " + sizeBytes);
    }
    long rounded = (sizeBytes + 511) / 512 * 512;
    String vdiUuid = UUID.randomUUID().toString();
    Lun lun =
        refine(
            () ->
                client.createLun(
                    name(metadata, vdiUuid), rounded, LunMetadata.vdi(uuid, vdiUuid, metadata)),
            SmError.VDI_SIZE,
            "create a VDI of " + sizeBytes + " bytes");
    return LunMetadata.info(lun);
  }

  private static String name(VdiMetadata metadata, String vdiUuid) {
    return metadata != null && metadata.nameLabel() != null && !metadata.nameLabel().isBlank()
        ? metadata.nameLabel()
        : "vdi-" + vdiUuid;
  }

  /** A control call whose BAD_REQUEST answer means {@code badRequest} for this operation. */
  private interface Call<T> {
    T run() throws ControlApiException;
  }

  private static <T> T refine(Call<T> call, SmError badRequest, String what) throws SmException {
    try {
      return call.run();
    } catch (ControlApiException e) {
      if (e.error() == SmError.BAD_REQUEST) {
        throw new SmException(badRequest, "cannot " + what + ": " + e.getMessage(), e);
      }
      throw e;
    }
  }

  @Override
  public synchronized void deleteVdi(String location) throws SmException {
    Lun lun = lun(location);
    if (attached.containsKey(location)) {
      throw new SmException(SmError.VDI_IN_USE, "VDI " + location + " is attached");
    }
    client.deleteLun(lun.id());
  }

  @Override
  public VdiInfo snapshot(String location, SnapshotKind kind, VdiMetadata metadata)
      throws SmException {
    return copy(location, metadata, true);
  }

  @Override
  public VdiInfo cloneVdi(String location, VdiMetadata metadata) throws SmException {
    return copy(location, metadata, false);
  }

  private VdiInfo copy(String location, VdiMetadata metadata, boolean snapshot) throws SmException {
    Lun source = lun(location);
    String vdiUuid = UUID.randomUUID().toString();
    Map<String, String> map = LunMetadata.vdi(uuid, vdiUuid, metadata);
    IscsiCbt.inherit(source, map);
    String name = name(metadata, vdiUuid);
    IscsiVdiDevice device = activeDevice(location);
    Lun made;
    try (IscsiVdiDevice.Paused p = device != null ? device.pause() : null) {
      made =
          snapshot
              ? client.snapshot(source.id(), name, map)
              : client.cloneLun(source.id(), name, map);
    }
    return LunMetadata.info(made);
  }

  private synchronized IscsiVdiDevice activeDevice(String location) {
    Attachment a = attached.get(location);
    return a == null ? null : a.device;
  }

  @Override
  public synchronized VdiInfo resize(String location, long newSizeBytes) throws SmException {
    if (attached.containsKey(location)) {
      throw new SmException(SmError.VDI_IN_USE, "VDI " + location + " is attached");
    }
    return grow(location, newSizeBytes);
  }

  /**
   * Grows the LUN while its device may be active: the array grows it, then the device reads its
   * capacity again (the target's UNIT ATTENTION "capacity data has changed" is retried by the
   * session), so I/O beyond the old end works at once.
   */
  @Override
  public synchronized VdiInfo resizeOnline(String location, long newSizeBytes) throws SmException {
    VdiInfo grown = grow(location, newSizeBytes);
    IscsiVdiDevice device = activeDevice(location);
    if (device != null) {
      device.refreshCapacity();
    }
    return grown;
  }

  private VdiInfo grow(String location, long newSizeBytes) throws SmException {
    Lun lun = lun(location);
    if (newSizeBytes < lun.sizeBytes()) {
      throw new SmException(
          SmError.VDI_SIZE,
          "VDI "
              + location
              + " is "
              + lun.sizeBytes()
              + " bytes; it cannot shrink to "
              + newSizeBytes);
    }
    long rounded = (newSizeBytes + 511) / 512 * 512;
    if (rounded == lun.sizeBytes()) {
      return LunMetadata.info(lun);
    }
    if (lun.readOnly()) {
      throw new SmException(SmError.VDI_UNAVAILABLE, "VDI " + location + " is read-only");
    }
    return LunMetadata.info(
        refine(
            () -> client.resize(lun.id(), rounded),
            SmError.VDI_SIZE,
            "resize VDI " + location + " to " + newSizeBytes + " bytes"));
  }

  @Override
  public synchronized void attachVdi(String location, boolean writable) throws SmException {
    Lun lun = lun(location);
    if (attached.containsKey(location)) {
      throw new SmException(SmError.VDI_IN_USE, "VDI " + location + " is already attached");
    }
    if (lun.dataDestroyed()) {
      throw new SmException(
          SmError.VDI_UNAVAILABLE,
          "VDI " + location + " has no data to attach (its data was destroyed; cbt_metadata)");
    }
    if (writable && lun.readOnly()) {
      throw new SmException(
          SmError.VDI_UNAVAILABLE,
          "VDI " + location + " is a read-only LUN (a snapshot) and cannot be attached writable");
    }
    attached.put(location, new Attachment(lun.lun(), !writable || lun.readOnly(), null));
  }

  @Override
  public synchronized VdiDevice activateVdi(String location) throws SmException {
    checkAttached();
    Attachment a = attached.get(location);
    if (a == null) {
      throw new SmException(SmError.VDI_UNAVAILABLE, "VDI " + location + " is not attached");
    }
    if (a.device == null) {
      a.device = open(session, location, a.lunNumber, a.readOnly);
    }
    return a.device;
  }

  private static IscsiVdiDevice open(
      IscsiSession session, String location, int lunNumber, boolean readOnly) throws SmException {
    try {
      return new IscsiVdiDevice(location, ScsiDisk.open(session, lunNumber), readOnly);
    } catch (IOException e) {
      throw new SmException(
          SmError.VDI_UNAVAILABLE,
          "cannot open LUN " + lunNumber + " of VDI " + location + ": " + e.getMessage(),
          e);
    }
  }

  @Override
  public String generateConfig(String location) throws SmException {
    Lun lun = lun(location);
    InitiatorConfig c = session.config();
    return new GeneratedConfig(
            lun.id(),
            c.portal(),
            c.targetIqn(),
            lun.lun(),
            lun.readOnly(),
            c.chapUser(),
            c.chapSecret())
        .encode();
  }

  /**
   * Logs in with the config's own session (not the SR's), so the device works from the config
   * alone; the VDI counts as attached until {@link #detachVdi}, which logs that session out.
   */
  @Override
  public synchronized VdiDevice activateFromConfig(String config) throws SmException {
    checkAttached();
    GeneratedConfig g = GeneratedConfig.parse(config);
    if (attached.containsKey(g.location())) {
      throw new SmException(SmError.VDI_IN_USE, "VDI " + g.location() + " is already attached");
    }
    IscsiSession own;
    try {
      own = IscsiSession.login(g.initiator());
    } catch (IOException e) {
      throw new SmException(
          SmError.SR_UNAVAILABLE,
          "cannot log in to " + g.targetIqn() + " at " + g.portal() + ": " + e.getMessage(),
          e);
    }
    Attachment a = new Attachment(g.lun(), g.readOnly(), own);
    try {
      a.device = open(own, g.location(), g.lun(), g.readOnly());
    } catch (SmException e) {
      own.close();
      throw e;
    }
    attached.put(g.location(), a);
    return a.device;
  }

  @Override
  public VdiInfo introduceVdi(String vdiUuid, String location, VdiMetadata metadata)
      throws SmException {
    checkAttached();
    Lun lun = client.getLun(location);
    String owner = lun.metadata().get(LunMetadata.SR);
    if (owner != null && !owner.equals(uuid) || LunMetadata.isRecord(lun)) {
      throw new SmException(
          SmError.BAD_REQUEST,
          "LUN "
              + location
              + " belongs to "
              + (owner == null ? "no SR" : "SR " + owner)
              + (LunMetadata.isRecord(lun) ? " as its record" : ""));
    }
    Map<String, String> map = new LinkedHashMap<>(lun.metadata());
    map.putAll(LunMetadata.vdi(uuid, vdiUuid, null));
    return LunMetadata.info(
        client.putMetadata(lun.id(), LunMetadata.withVdiMetadata(map, metadata)));
  }

  @Override
  public void deactivateVdi(String location) throws SmException {
    closeDevice(location, a -> {});
  }

  @Override
  public void detachVdi(String location) throws SmException {
    closeDevice(location, a -> attached.remove(location));
  }

  private synchronized void closeDevice(String location, Consumer<Attachment> then)
      throws SmException {
    checkAttached();
    Attachment a = attached.get(location);
    if (a == null) {
      return;
    }
    if (a.device != null) {
      a.device.close();
      a.device = null;
    }
    if (a.ownSession != null) {
      // a device from a generated config lives only as long as its own session
      a.ownSession.close();
      attached.remove(location);
      return;
    }
    then.accept(a);
  }

  @Override
  public synchronized void updateVdi(String location, VdiMetadata metadata) throws SmException {
    Lun lun = lun(location);
    client.putMetadata(lun.id(), LunMetadata.withVdiMetadata(lun.metadata(), metadata));
  }

  @Override
  public synchronized void enableCbt(String location) throws SmException {
    IscsiCbt.enable(client, lun(location));
  }

  @Override
  public synchronized void disableCbt(String location) throws SmException {
    IscsiCbt.disable(client, lun(location));
  }

  @Override
  public ChangedBlocks listChangedBlocks(String fromLocation, String toLocation)
      throws SmException {
    return IscsiCbt.changedBlocks(client, lun(fromLocation), lun(toLocation));
  }

  /** Detached snapshots only (its LUN leaves the target); see {@link IscsiCbt#dataDestroy}. */
  @Override
  public synchronized void dataDestroy(String location) throws SmException {
    Lun lun = lun(location);
    if (attached.containsKey(location)) {
      throw new SmException(
          SmError.VDI_IN_USE, "VDI " + location + " is attached; data destroy needs it detached");
    }
    IscsiCbt.dataDestroy(client, lun);
  }
}
