package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import org.xsm.api.ChangedBlocks;
import org.xsm.api.DriverInfo;
import org.xsm.api.GcBacklog;
import org.xsm.api.GcCounters;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.SnapshotRequest;
import org.xsm.api.Sr;
import org.xsm.api.SrStats;
import org.xsm.api.TreeChange;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.store.ImageStore;

/**
 * An attached VHD-tree SR, as xapi's FileSR keeps one: {@code <uuid>.vhd} files in one directory of
 * an {@link ImageStore}, VDI location = UUID, {@code <uuid>.meta} with the VDI's metadata, {@code
 * <uuid>.cbtlog} for changed-block tracking. Snapshot and clone are in {@link TreeOperations}.
 *
 * <p>Locking: operations that change the tree, or depend on it not changing, hold the SR lock; I/O
 * on active devices does not. Each SR has its own lock, so SRs work in parallel.
 *
 * <p>Cost: the VDI operations work on an in-memory model of the tree and metadata ({@link SrModel})
 * that each of them updates after its durable steps, so none lists the store or reads another VDI's
 * files; scan and attach rebuild the model (rereading only files that changed). Operations that
 * keep the model run through {@link #managed}; any other change of the tree's files (the GC,
 * recovery) makes the model stale through the {@link TrackedStore}, and a failed operation drops
 * it. On a shared SR another host may change the tree between two operations, so the model is
 * rebuilt (from the listing, rereading what changed) each time the lock shared with other hosts is
 * taken.
 */
public class FileSr implements Sr {
  /** xapi's MAX_CHAIN_SIZE: a VDI whose chain is this deep cannot be snapshotted or cloned. */
  public static final int MAX_CHAIN_DEPTH = 30;

  final ImageStore store;
  final DriverInfo info;
  private final String uuid;
  private final Runnable onDetach;
  final ReentrantLock lock = new ReentrantLock();
  final Map<String, Attachment> attached = new HashMap<>();

  /** The VDIs active on other hosts of the pool (this host is the SR master). */
  private final Elsewhere elsewhere = new Elsewhere();

  private GcScheduler gc;
  private volatile GcSettings gcSettings = GcSettings.DEFAULTS;
  private volatile GcThrottle throttle = new GcThrottle(GcSettings.DEFAULTS.rateBytesPerSecond());
  private final GcMeters gcMeters = new GcMeters();

  /** Held by a running garbage collection: one at a time per SR. */
  final Object gcMutex = new Object();

  private boolean detached;

  /** The lock file shared with other hosts, for SRs on shared storage; null otherwise. */
  private StoreLock storeLock;

  /** An attached VDI and, if activated, its device. */
  static final class Attachment {
    final boolean writable;
    VhdVdiDevice device;

    Attachment(boolean writable) {
      this.writable = writable;
    }
  }

  /** The SR's default image format ({@code device_config:preferred-image-formats}), if any. */
  volatile java.util.Optional<String> preferredFormat = java.util.Optional.empty();

  /**
   * Sets the default image format from {@code device_config:preferred-image-formats} (XCP-ng's key:
   * a comma-separated list, the first is used for new VDIs).
   *
   * @throws SmException {@link SmError#BAD_REQUEST} naming an unknown format
   */
  void preferFormats(Map<String, String> deviceConfig) throws SmException {
    String v = deviceConfig.get(PREFERRED_FORMATS_KEY);
    if (v == null || v.isBlank()) {
      return;
    }
    String first = v.split(",")[0].trim();
    try {
      ImageFormat.parse(first);
    } catch (IllegalArgumentException e) {
      throw new SmException(SmError.BAD_REQUEST, PREFERRED_FORMATS_KEY + ": " + e.getMessage());
    }
    preferredFormat = java.util.Optional.of(first);
  }

  /** XCP-ng's SR key for the image formats of new VDIs, most preferred first. */
  public static final String PREFERRED_FORMATS_KEY = "preferred-image-formats";

  /** The in-memory tree and metadata; guarded by {@link #lock}. */
  final SrModel model;

  /** The thread running a {@link #managed} operation, which updates the model itself. */
  private volatile Thread modelKeeper;

  protected FileSr(ImageStore store, DriverInfo info, String uuid, Runnable onDetach) {
    this.store = new TrackedStore(store, this::keepsModel, this::stale);
    this.model = new SrModel(this.store);
    this.info = info;
    this.uuid = uuid;
    this.onDetach = onDetach;
  }

  @Override
  public String uuid() {
    return uuid;
  }

  /** Sets up the background garbage collector (SR attach). */
  void startGc(GcSettings settings) {
    gcSettings = settings;
    throttle = new GcThrottle(settings.rateBytesPerSecond());
    gc = new GcScheduler(this, settings, msg -> {});
  }

  /** {@link #startGc(GcSettings)} from an {@code other_config} alone (tests). */
  void startGc(Map<String, String> otherConfig) throws SmException {
    startGc(GcSettings.of(Map.of(), otherConfig));
  }

  /** Requests a background GC pass (if enabled); later requests never delay it. */
  void kickGc() {
    if (gc != null) {
      gc.kick();
    }
  }

  /**
   * Runs the garbage collector now, to completion, in this thread (SR delete, tests, operators).
   */
  public GarbageCollector.GcReport collectGarbage() throws SmException {
    return new GarbageCollector(this, msg -> {}, false).run();
  }

  /** What the background collector is doing, for operators. */
  @Override
  public String gcStatus() {
    return gc == null ? "idle" : gc.status();
  }

  @Override
  public double gcStepProgress() {
    return gc == null ? -1 : gc.stepProgress();
  }

  @Override
  public void setGcProgressListener(java.util.function.DoubleConsumer listener) {
    gcMeters.listen(listener);
  }

  /** Nodes the GC could not coalesce for lack of space (xapi's gc_no_space). */
  public java.util.Set<String> gcNoSpace() {
    return gcMeters.noSpace();
  }

  @Override
  public GcCounters gcCounters() {
    return gcMeters.counters();
  }

  @Override
  public GcBacklog gcBacklog() {
    return gcMeters.backlog();
  }

  /** Re-measures the collector's backlog from the tree (under the SR lock, briefly). */
  GcBacklog measureBacklog() throws SmException {
    return locked(() -> measureBacklog(tree()));
  }

  GcBacklog measureBacklog(VhdTree tree) {
    GcSettings s = gcSettings;
    return gcMeters.measure(tree, s.rateBytesPerSecond(), gc != null && s.enabled());
  }

  GcMeters gcMeters() {
    return gcMeters;
  }

  /** The pacing of this SR's collector copies. */
  GcThrottle gcThrottle() {
    return throttle;
  }

  /** Tells the collector's pacing that a device did foreground I/O. */
  void noteForeground(long bytes) {
    throttle.foreground(bytes);
  }

  /** Runs {@code op} under the SR lock after checking the SR is still attached. */
  <T> T locked(Op<T> op) throws SmException {
    lock.lock();
    try {
      if (detached) {
        throw new SmException(SmError.SR_NOT_ATTACHED, "SR " + uuid + " is detached");
      }
      if (storeLock == null || lock.getHoldCount() > 1) {
        return op.run();
      }
      // The outermost holder also takes the lock shared with other hosts, which may have changed
      // the tree since this host last held it.
      return storeLock.run(
          () -> {
            model.invalidate();
            return op.run();
          });
    } finally {
      lock.unlock();
    }
  }

  /**
   * {@link #locked}, for an operation that keeps the in-memory model in step with the files it
   * changes. If it fails, the model is dropped (rebuilt from the files at the next use), since a
   * failure may come between a file change and the model's.
   */
  <T> T managed(Op<T> op) throws SmException {
    return locked(
        () -> {
          Thread outer = modelKeeper;
          modelKeeper = Thread.currentThread();
          try {
            return op.run();
          } catch (SmException | RuntimeException e) {
            model.invalidate();
            throw e;
          } finally {
            modelKeeper = outer;
          }
        });
  }

  /** Whether the current thread runs a {@link #managed} operation (or a step of one). */
  boolean keepsModel() {
    return modelKeeper == Thread.currentThread() || ParallelSteps.forKeeper();
  }

  /** Another writer changed the tree's files: the model is rebuilt at its next use. */
  private void stale() {
    model.invalidate();
  }

  /** Makes the SR lock also take {@code l}, the lock shared with other hosts. */
  void shareLock(StoreLock l) {
    storeLock = l;
  }

  interface Op<T> {
    T run() throws SmException;
  }

  @Override
  public void detach() throws SmException {
    locked(
        () -> {
          if (!attached.isEmpty()) {
            throw new SmException(
                SmError.SR_IN_USE,
                "SR " + uuid + " still has attached VDIs: " + String.join(", ", attached.keySet()));
          }
          return null;
        });
    if (gc != null) {
      gc.stop(); // outside the SR lock: a running collection may be waiting for it
    }
    locked(
        () -> {
          model.saveCache(); // lets the next attach skip reading unchanged files
          detached = true;
          onDetach.run();
          return null;
        });
  }

  /**
   * Rolls back snapshots and clones a crash interrupted, and removes temporary files. The model is
   * rebuilt afterwards if recovery changed anything.
   */
  void recover() throws SmException {
    try {
      TreeOperations.recover(this);
      HiddenRename.recover(this);
      GarbageCollector.recoverJournals(this);
      model.invalidate(); // recovery may have renamed or deleted nodes
    } catch (IOException e) {
      model.invalidate();
      throw SmErrors.of(e, SmError.SR_UNAVAILABLE, "recovery of SR " + uuid);
    }
  }

  /**
   * The tree as the store holds it now (the model is rebuilt first, rereading what changed), as an
   * independent copy: for callers that read it outside the SR lock or change the files behind the
   * model (the GC). Under the SR lock.
   */
  VhdTree tree() throws SmException {
    try {
      model.refresh();
      return model.tree().copy();
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_SCAN, "scan of SR " + uuid);
    }
  }

  /** The live model tree (under the SR lock, in a {@link #managed} operation). */
  VhdTree modelTree() throws SmException {
    try {
      return model.tree();
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_SCAN, "reading the tree of SR " + uuid);
    }
  }

  // ---- scan and stats ----

  /** Rebuilds the model (recovering first if anything needs it) and lists it ({@link SrScan}). */
  @Override
  public List<VdiInfo> scan() throws SmException {
    List<VdiInfo> out = managed(() -> SrScan.scan(this));
    kickGc();
    return out;
  }

  /** A node as a VDI; whether it has a CBT log costs one lookup on the store. */
  VdiInfo info(VhdTree.Node n) throws SmException {
    try {
      return info(n, store.exists(CbtLog.fileOf(n.uuid)));
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.VDI_LOAD, "CBT log of VDI " + n.uuid);
    }
  }

  /** A node as a VDI, from the model only. */
  VdiInfo info(VhdTree.Node n, boolean cbt) throws SmException {
    VdiMetadata meta = readMeta(n.uuid);
    Map<String, String> sm = new TreeMap<>();
    sm.put("vdi_type", n.format.wireName());
    sm.put(ImageFormat.SM_CONFIG_KEY, n.format.wireName());
    if (n.parentUuid != null) {
      sm.put("vhd-parent", n.parentUuid);
    }
    boolean snapshot = readOnlyFlag(n.uuid);
    return new VdiInfo(
        n.uuid,
        n.uuid,
        n.virtualSizeBytes,
        n.physicalSizeBytes,
        n.hidden || snapshot,
        !n.hidden,
        sm,
        meta,
        cbt);
  }

  @Override
  public SrStats stats() throws SmException {
    return managed(() -> SrScan.stats(this));
  }

  @Override
  public void update() throws SmException {
    stats();
  }

  // ---- VDI metadata ----

  static String metaFileOf(String uuid) {
    return uuid + ".meta";
  }

  /** A VDI's metadata from the model, or null if it has no metadata file. */
  VdiMetadata readMeta(String u) throws SmException {
    SrModel.Meta m = metaOf(u);
    return m == null ? null : m.metadata();
  }

  private SrModel.Meta metaOf(String u) throws SmException {
    try {
      return model.meta(u);
    } catch (IOException | RuntimeException e) {
      throw new SmException(SmError.VDI_LOAD, "metadata of VDI " + u + ": " + e.getMessage(), e);
    }
  }

  /**
   * Whether the SR made this VDI read-only (a snapshot): decided by the SR when it creates the VDI,
   * kept in its metadata file under {@code sm_read_only}, and never changed by the caller's
   * metadata.
   */
  boolean readOnlyFlag(String u) throws SmException {
    SrModel.Meta m = metaOf(u);
    return m != null && m.readOnly();
  }

  /** Writes the caller's metadata, keeping the SR's read-only flag. */
  void writeMeta(String u, VdiMetadata meta) throws IOException, SmException {
    writeMeta(u, meta, readOnlyFlag(u));
  }

  /**
   * Writes metadata and the SR's read-only flag (durable on return: {@link PropertiesFile}), then
   * records it in the model.
   */
  void writeMeta(String u, VdiMetadata meta, boolean readOnly) throws IOException {
    if (meta == null) {
      meta = new VdiMetadata("", "", "user", readOnly, null, null);
    }
    PropertiesFile.write(store, metaFileOf(u), SrModel.format(meta, readOnly));
    model.putMeta(u, new SrModel.Meta(meta, readOnly));
  }

  @Override
  public void updateVdi(String location, VdiMetadata metadata) throws SmException {
    managed(
        () -> {
          VhdTree.Node n = existing(location);
          try {
            writeMeta(n.uuid, metadata);
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.GENERAL, "update of VDI " + location);
          }
          return null;
        });
  }

  // ---- create, delete, resize ----

  /** A VDI's node in the model, linked to its ancestors. */
  VhdTree.Node chainNode(String location) throws SmException {
    return existing(location);
  }

  /** A VDI's node in the model. */
  VhdTree.Node existing(String location) throws SmException {
    return existing(modelTree(), location);
  }

  VhdTree.Node existing(VhdTree tree, String location) throws SmException {
    VhdTree.Node n = location == null ? null : tree.get(location);
    if (n == null) {
      throw new SmException(SmError.VDI_MISSING, "VDI " + location + " is not on SR " + uuid);
    }
    return n;
  }

  // ---- create, delete, resize ({@link VdiLifecycle}) ----

  @Override
  public VdiInfo createVdi(long sizeBytes, VdiMetadata metadata) throws SmException {
    return createVdi(sizeBytes, metadata, Map.of());
  }

  /**
   * The image format comes from {@code sm_config:image-format}, else the SR's {@code
   * device_config:preferred-image-formats} (first entry), else the size: qcow2 above 2040 GiB, VHD
   * below ({@link ImageFormat#choose}).
   */
  @Override
  public VdiInfo createVdi(long sizeBytes, VdiMetadata metadata, Map<String, String> smConfig)
      throws SmException {
    return VdiLifecycle.createVdi(this, sizeBytes, metadata, smConfig);
  }

  @Override
  public void deleteVdi(String location) throws SmException {
    VdiLifecycle.deleteVdi(this, location);
  }

  @Override
  public VdiInfo resize(String location, long newSizeBytes) throws SmException {
    return VdiLifecycle.resize(this, location, newSizeBytes);
  }

  // ---- snapshot and clone ----

  @Override
  public VdiInfo snapshot(String location, SnapshotKind kind, VdiMetadata metadata)
      throws SmException {
    return snapshotChange(location, kind, metadata).vdi();
  }

  @Override
  public VdiInfo cloneVdi(String location, VdiMetadata metadata) throws SmException {
    return cloneChange(location, metadata).vdi();
  }

  @Override
  public TreeChange snapshotChange(String location, SnapshotKind kind, VdiMetadata metadata)
      throws SmException {
    return managed(() -> TreeOperations.snapshot(this, location, kind, metadata, false));
  }

  @Override
  public TreeChange cloneChange(String location, VdiMetadata metadata) throws SmException {
    return managed(
        () -> TreeOperations.snapshot(this, location, SnapshotKind.DOUBLE, metadata, true));
  }

  /**
   * Natively: one op log for the batch, one directory sync per step for all disks, every active
   * device paused together for the renames and leaf creations only ({@link BatchSnapshot}).
   */
  @Override
  public List<TreeChange> snapshotAll(List<SnapshotRequest> requests) throws SmException {
    return managed(() -> BatchSnapshot.run(this, requests));
  }

  /**
   * Pauses the active devices (this host's and other hosts') of every VDI at or below the given
   * nodes. The caller resumes every one returned; if a pause fails, those already paused are
   * resumed before the failure is thrown.
   */
  List<Pausable> pauseDescendants(List<String> roots) throws IOException, SmException {
    VhdTree tree = tree();
    List<Pausable> paused = new ArrayList<>();
    List<VhdTree.Node> todo = new ArrayList<>();
    for (String r : roots) {
      if (tree.get(r) != null) {
        todo.add(tree.get(r));
      }
    }
    while (!todo.isEmpty()) {
      VhdTree.Node x = todo.remove(todo.size() - 1);
      for (Pausable d : pausables(x.uuid)) {
        try {
          d.pause();
        } catch (IOException e) {
          paused.add(d);
          try {
            org.xsm.plugins.store.IoActions.forAll(paused, Pausable::resume);
          } catch (IOException r) {
            e.addSuppressed(r);
          }
          throw e;
        }
        paused.add(d);
      }
      todo.addAll(x.children());
    }
    return paused;
  }

  /** The devices of a VDI to pause around a change of its chain: here, on other hosts, or both. */
  List<Pausable> pausables(String location) {
    List<Pausable> out = new ArrayList<>(2);
    VhdVdiDevice d = activeDevice(location);
    if (d != null) {
      out.add(d);
    }
    elsewhere.addPausable(location, out);
    return out;
  }

  /** Whether the VDI is active on another host of the pool (see {@link Elsewhere}). */
  boolean activeOnOtherHost(String location) {
    return elsewhere.contains(location);
  }

  @Override
  public void activeElsewhere(String location, org.xsm.api.RemoteDevice device) {
    elsewhere.add(location, device);
  }

  @Override
  public void inactiveElsewhere(String location) {
    elsewhere.remove(location);
  }

  /** The device of an active VDI, or null. */
  VhdVdiDevice activeDevice(String location) {
    Attachment a = attached.get(location);
    return a == null ? null : a.device;
  }

  // ---- attach and activate ({@link VdiAttachments}) ----

  @Override
  public void attachVdi(String location, boolean writable) throws SmException {
    VdiAttachments.attachVdi(this, location, writable);
  }

  @Override
  public VdiDevice activateVdi(String location) throws SmException {
    return VdiAttachments.activateVdi(this, location);
  }

  @Override
  public void deactivateVdi(String location) throws SmException {
    VdiAttachments.deactivateVdi(this, location);
  }

  @Override
  public void detachVdi(String location) throws SmException {
    VdiAttachments.detachVdi(this, location);
  }

  @Override
  public String generateConfig(String location) throws SmException {
    return VdiAttachments.generateConfig(this, location);
  }

  @Override
  public VdiDevice activateFromConfig(String config) throws SmException {
    return VdiAttachments.activateFromConfig(this, config);
  }

  // ---- CBT ({@link CbtOperations}) ----

  @Override
  public void enableCbt(String location) throws SmException {
    CbtOperations.enableCbt(this, location);
  }

  @Override
  public void disableCbt(String location) throws SmException {
    CbtOperations.disableCbt(this, location);
  }

  @Override
  public ChangedBlocks listChangedBlocks(String fromLocation, String toLocation)
      throws SmException {
    return CbtOperations.listChangedBlocks(this, fromLocation, toLocation);
  }

  @Override
  public void dataDestroy(String location) throws SmException {
    CbtOperations.dataDestroy(this, location);
  }
}
