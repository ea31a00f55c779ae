package org.xsm.plugins.filesr;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import org.xsm.api.ChangedBlocks;
import org.xsm.api.DriverInfo;
import org.xsm.api.GcBacklog;
import org.xsm.api.GcCounters;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrStats;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.vhd.Vhd;
import org.xsm.plugins.vhd.VhdChain;
import org.xsm.plugins.vhd.VhdCreator;
import org.xsm.plugins.vhd.VhdFooter;
import org.xsm.plugins.vhd.VhdImage;

/**
 * An attached VHD-tree SR, as xapi's FileSR keeps one: {@code <uuid>.vhd} files in one directory of
 * an {@link ImageStore}, VDI location = UUID, {@code <uuid>.meta} with the VDI's metadata, {@code
 * <uuid>.cbtlog} for changed-block tracking. Snapshot and clone are in {@link TreeOperations}.
 *
 * <p>Locking: operations that change the tree, or depend on it not changing, hold the SR lock; I/O
 * on active devices does not. Each SR has its own lock, so SRs work in parallel.
 */
public class FileSr implements Sr {
  /** xapi's MAX_CHAIN_SIZE: a VDI whose chain is this deep cannot be snapshotted or cloned. */
  public static final int MAX_CHAIN_DEPTH = 30;

  final ImageStore store;
  final DriverInfo info;
  private final String uuid;
  private final Runnable onDetach;
  final ReentrantLock lock = new ReentrantLock();
  private final Map<String, Attachment> attached = new HashMap<>();
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

  protected FileSr(ImageStore store, DriverInfo info, String uuid, Runnable onDetach) {
    this.store = store;
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

  private GcBacklog measureBacklog(VhdTree tree) {
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
  private void noteForeground(long bytes) {
    throttle.foreground(bytes);
  }

  /** Runs {@code op} under the SR lock after checking the SR is still attached. */
  <T> T locked(Op<T> op) throws SmException {
    lock.lock();
    try {
      if (detached) {
        throw new SmException(SmError.SR_NOT_ATTACHED, "SR " + uuid + " is detached");
      }
      // The outermost holder also takes the lock shared with other hosts.
      return storeLock == null || lock.getHoldCount() > 1 ? op.run() : storeLock.run(op);
    } finally {
      lock.unlock();
    }
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
          detached = true;
          onDetach.run();
          return null;
        });
  }

  /** Rolls back snapshots and clones a crash interrupted, and removes temporary files. */
  void recover() throws SmException {
    try {
      TreeOperations.recover(this);
      HiddenRename.recover(this);
      GarbageCollector.recoverJournals(this);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_UNAVAILABLE, "recovery of SR " + uuid);
    }
  }

  VhdTree tree() throws SmException {
    try {
      return VhdTree.read(store);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_SCAN, "scan of SR " + uuid);
    }
  }

  // ---- scan and stats ----

  @Override
  public List<VdiInfo> scan() throws SmException {
    return locked(
        () -> {
          recover();
          VhdTree tree = tree();
          List<VdiInfo> out = new ArrayList<>();
          for (VhdTree.Node n : tree.nodes()) {
            if (n.hidden && tree.isGarbage(n)) {
              continue;
            }
            out.add(info(n));
          }
          try {
            for (String name : store.list()) {
              if (name.endsWith(".cbtlog")) {
                String u = name.substring(0, name.length() - ".cbtlog".length());
                if (VhdTree.UUID.matcher(u).matches() && tree.get(u) == null) {
                  out.add(cbtMetadataInfo(u));
                }
              }
            }
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.SR_SCAN, "scan of SR " + uuid);
          }
          measureBacklog(tree);
          kickGc();
          return out;
        });
  }

  VdiInfo info(VhdTree.Node n) throws SmException {
    VdiMetadata meta = readMeta(n.uuid);
    Map<String, String> sm = new TreeMap<>();
    sm.put("vdi_type", "vhd");
    if (n.parentUuid != null) {
      sm.put("vhd-parent", n.parentUuid);
    }
    boolean snapshot = readOnlyFlag(n.uuid);
    boolean cbt;
    try {
      cbt = store.exists(CbtLog.fileOf(n.uuid));
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_SCAN, "scan of SR " + uuid);
    }
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

  private VdiInfo cbtMetadataInfo(String u) throws SmException {
    try {
      CbtLog log = CbtLog.read(store, u);
      VdiMetadata m = readMeta(u);
      VdiMetadata meta =
          m == null
              ? new VdiMetadata("", "", "cbt_metadata", true, null, null)
              : new VdiMetadata(
                  m.nameLabel(),
                  m.nameDescription(),
                  "cbt_metadata",
                  m.isASnapshot(),
                  m.snapshotOf(),
                  m.snapshotTime());
      return new VdiInfo(
          u, u, log.virtualSizeBytes, 0, true, true, Map.of("vdi_type", "cbtlog"), meta, true);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_SCAN, "scan of SR " + uuid);
    }
  }

  @Override
  public SrStats stats() throws SmException {
    return locked(
        () -> {
          VhdTree tree = tree();
          long used = 0;
          long virtual = 0;
          for (VhdTree.Node n : tree.nodes()) {
            used += n.physicalSizeBytes;
            if (!n.hidden) {
              virtual += n.virtualSizeBytes;
            }
          }
          measureBacklog(tree);
          try {
            long cap = store.capacityBytes();
            return new SrStats(cap < 0 ? used : cap, used, virtual);
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.SR_UNAVAILABLE, "stats of SR " + uuid);
          }
        });
  }

  @Override
  public void update() throws SmException {
    stats();
  }

  // ---- VDI metadata ----

  static String metaFileOf(String uuid) {
    return uuid + ".meta";
  }

  VdiMetadata readMeta(String u) throws SmException {
    try {
      Map<String, String> m = PropertiesFile.read(store, metaFileOf(u));
      if (m == null) {
        return null;
      }
      String t = m.get("snapshot_time");
      return new VdiMetadata(
          m.getOrDefault("name_label", ""),
          m.getOrDefault("name_description", ""),
          m.getOrDefault("type", "user"),
          Boolean.parseBoolean(m.get("is_a_snapshot")),
          m.get("snapshot_of"),
          t == null ? null : Instant.parse(t));
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
    try {
      Map<String, String> m = PropertiesFile.read(store, metaFileOf(u));
      return m != null && Boolean.parseBoolean(m.get(READ_ONLY_KEY));
    } catch (IOException e) {
      throw new SmException(SmError.VDI_LOAD, "metadata of VDI " + u + ": " + e.getMessage(), e);
    }
  }

  private static final String READ_ONLY_KEY = "sm_read_only";

  /** Writes the caller's metadata, keeping the SR's read-only flag. */
  void writeMeta(String u, VdiMetadata meta) throws IOException, SmException {
    writeMeta(u, meta, readOnlyFlag(u));
  }

  /** Writes metadata and the SR's read-only flag. */
  void writeMeta(String u, VdiMetadata meta, boolean readOnly) throws IOException {
    if (meta == null) {
      meta = new VdiMetadata("", "", "user", readOnly, null, null);
    }
    Map<String, String> m = new TreeMap<>();
    m.put(READ_ONLY_KEY, Boolean.toString(readOnly));
    m.put("name_label", meta.nameLabel() == null ? "" : meta.nameLabel());
    m.put("name_description", meta.nameDescription() == null ? "" : meta.nameDescription());
    m.put("type", meta.type() == null ? "user" : meta.type());
    m.put("is_a_snapshot", Boolean.toString(meta.isASnapshot()));
    if (meta.snapshotOf() != null) {
      m.put("snapshot_of", meta.snapshotOf());
    }
    if (meta.snapshotTime() != null) {
      m.put("snapshot_time", meta.snapshotTime().toString());
    }
    PropertiesFile.write(store, metaFileOf(u), m);
  }

  @Override
  public void updateVdi(String location, VdiMetadata metadata) throws SmException {
    locked(
        () -> {
          VhdTree.Node n = existing(tree(), location);
          try {
            writeMeta(n.uuid, metadata);
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.GENERAL, "update of VDI " + location);
          }
          return null;
        });
  }

  // ---- create, delete, resize ----

  /** A VDI's node with its ancestors (not the whole tree). */
  VhdTree.Node chainNode(String location) throws SmException {
    VhdTree.Node n;
    try {
      n = location == null ? null : VhdTree.chainOf(store, location);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.VDI_LOAD, "reading VDI " + location);
    }
    if (n == null) {
      throw new SmException(SmError.VDI_MISSING, "VDI " + location + " is not on SR " + uuid);
    }
    return n;
  }

  VhdTree.Node existing(VhdTree tree, String location) throws SmException {
    VhdTree.Node n = location == null ? null : tree.get(location);
    if (n == null) {
      throw new SmException(SmError.VDI_MISSING, "VDI " + location + " is not on SR " + uuid);
    }
    return n;
  }

  @Override
  public VdiInfo createVdi(long sizeBytes, VdiMetadata metadata) throws SmException {
    if (sizeBytes <= 0 || sizeBytes > VhdFooter.MAX_SIZE_BYTES) {
      throw new SmException(
          SmError.VDI_SIZE,
          "VDI size " + sizeBytes + " is outside 1.." + VhdFooter.MAX_SIZE_BYTES + " bytes");
    }
    return locked(
        () -> {
          String u = UUID.randomUUID().toString();
          try {
            writeMeta(u, metadata, false);
            VhdCreator.createDynamic(store, VhdTree.fileOf(u), sizeBytes).close();
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.VDI_CREATE, "create of a VDI on SR " + uuid);
          }
          return info(existing(tree(), u));
        });
  }

  @Override
  public void deleteVdi(String location) throws SmException {
    locked(
        () -> {
          if (attached.containsKey(location)) {
            throw new SmException(SmError.VDI_IN_USE, "VDI " + location + " is attached");
          }
          VhdTree tree = tree();
          VhdTree.Node n = tree.get(location);
          try {
            if (n == null) {
              if (location != null && store.exists(CbtLog.fileOf(location))) {
                Cbt.foldIntoSuccessors(store, location);
                store.delete(CbtLog.fileOf(location));
                PropertiesFile.deleteIfExists(store, metaFileOf(location));
                store.syncMetadata();
                return null;
              }
              throw new SmException(
                  SmError.VDI_MISSING, "VDI " + location + " is not on SR " + uuid);
            }
            if (n.hidden) {
              throw new SmException(
                  SmError.VDI_DELETE,
                  "VDI " + location + " is a base copy; it is removed when its children are");
            }
            Cbt.foldIntoSuccessors(store, n.uuid);
            if (!n.isLeaf()) {
              // Other VDIs read through this one (clones of a snapshot): it becomes a hidden base
              // copy under a fresh UUID, so the deleted VDI's UUID does not come back from scan.
              HiddenRename.run(this, n);
            } else {
              // The data goes first: a crash then leaves at worst a stray metadata file.
              store.delete(VhdTree.fileOf(n.uuid));
              store.syncMetadata();
            }
            PropertiesFile.deleteIfExists(store, metaFileOf(n.uuid));
            PropertiesFile.deleteIfExists(store, CbtLog.fileOf(n.uuid));
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.VDI_DELETE, "delete of VDI " + location);
          }
          kickGc();
          return null;
        });
  }

  @Override
  public VdiInfo resize(String location, long newSizeBytes) throws SmException {
    return locked(
        () -> {
          VhdTree.Node n = existing(tree(), location);
          if (attached.containsKey(location)) {
            throw new SmException(SmError.VDI_IN_USE, "VDI " + location + " is attached");
          }
          if (info(n).readOnly()) {
            throw new SmException(
                SmError.VDI_RESIZE, "VDI " + location + " is read-only (a snapshot or base copy)");
          }
          if (newSizeBytes < n.virtualSizeBytes) {
            throw new SmException(
                SmError.VDI_SIZE,
                "VDI "
                    + location
                    + " cannot shrink from "
                    + n.virtualSizeBytes
                    + " to "
                    + newSizeBytes
                    + " bytes");
          }
          if (newSizeBytes > VhdFooter.MAX_SIZE_BYTES) {
            throw new SmException(
                SmError.VDI_SIZE, "VDI size " + newSizeBytes + " exceeds the VHD maximum");
          }
          try {
            Vhd.resize(store, VhdTree.fileOf(n.uuid), newSizeBytes);
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.VDI_RESIZE, "resize of VDI " + location);
          }
          return info(existing(tree(), location));
        });
  }

  // ---- snapshot and clone ----

  @Override
  public VdiInfo snapshot(String location, SnapshotKind kind, VdiMetadata metadata)
      throws SmException {
    return locked(() -> TreeOperations.snapshot(this, location, kind, metadata, false));
  }

  @Override
  public VdiInfo cloneVdi(String location, VdiMetadata metadata) throws SmException {
    return locked(
        () -> TreeOperations.snapshot(this, location, SnapshotKind.DOUBLE, metadata, true));
  }

  /** Pauses the active devices of every VDI at or below the given nodes. */
  List<VhdVdiDevice> pauseDescendants(List<String> roots) throws IOException, SmException {
    VhdTree tree = tree();
    List<VhdVdiDevice> paused = new ArrayList<>();
    List<VhdTree.Node> todo = new ArrayList<>();
    for (String r : roots) {
      if (tree.get(r) != null) {
        todo.add(tree.get(r));
      }
    }
    while (!todo.isEmpty()) {
      VhdTree.Node x = todo.remove(todo.size() - 1);
      VhdVdiDevice d = activeDevice(x.uuid);
      if (d != null) {
        d.pause();
        paused.add(d);
      }
      todo.addAll(x.children());
    }
    return paused;
  }

  /** The device of an active VDI, or null. */
  VhdVdiDevice activeDevice(String location) {
    Attachment a = attached.get(location);
    return a == null ? null : a.device;
  }

  // ---- attach and activate ----

  @Override
  public void attachVdi(String location, boolean writable) throws SmException {
    locked(
        () -> {
          VhdTree.Node n = existing(tree(), location);
          if (attached.containsKey(location)) {
            throw new SmException(SmError.VDI_IN_USE, "VDI " + location + " is already attached");
          }
          VdiInfo vi = info(n);
          if (writable && vi.readOnly()) {
            throw new SmException(
                SmError.VDI_UNAVAILABLE,
                "VDI "
                    + location
                    + (n.hidden ? " is a base copy" : " is a snapshot")
                    + " and can only be attached read-only");
          }
          try (VhdChain c = VhdChain.open(store, VhdTree.fileOf(n.uuid), false)) {
            c.depth();
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.VDI_LOAD, "attach of VDI " + location);
          }
          attached.put(location, new Attachment(writable));
          return null;
        });
  }

  @Override
  public VdiDevice activateVdi(String location) throws SmException {
    return locked(
        () -> {
          Attachment a = attached.get(location);
          if (a == null) {
            throw new SmException(
                SmError.BAD_REQUEST, "VDI " + location + " must be attached before activation");
          }
          if (a.device == null) {
            try {
              a.device = VhdVdiDevice.open(store, location, !a.writable, this::noteForeground);
              LeafWriteTracker t = gcMeters.tracker(location);
              if (t != null) {
                t.disturb(); // a leaf-coalesce copying from the file does not see this device
              }
            } catch (IOException e) {
              throw SmErrors.of(e, SmError.VDI_UNAVAILABLE, "activate of VDI " + location);
            }
          }
          return a.device;
        });
  }

  @Override
  public void deactivateVdi(String location) throws SmException {
    locked(
        () -> {
          Attachment a = attached.get(location);
          if (a != null && a.device != null) {
            try {
              a.device.close();
            } catch (IOException e) {
              throw SmErrors.of(e, SmError.EIO, "deactivate of VDI " + location);
            } finally {
              a.device = null;
            }
          }
          return null;
        });
  }

  @Override
  public void detachVdi(String location) throws SmException {
    deactivateVdi(location);
    locked(() -> attached.remove(location));
  }

  @Override
  public String generateConfig(String location) throws SmException {
    return locked(
        () -> {
          existing(tree(), location);
          return "xsm-vdi-config:v1;sr=" + uuid + ";vdi=" + location;
        });
  }

  @Override
  public VdiDevice activateFromConfig(String config) throws SmException {
    Map<String, String> kv = new HashMap<>();
    String prefix = "xsm-vdi-config:v1;";
    if (config == null || !config.startsWith(prefix)) {
      throw new SmException(SmError.BAD_REQUEST, "not a VDI config of this driver: " + config);
    }
    for (String part : config.substring(prefix.length()).split(";")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        kv.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    if (!uuid.equals(kv.get("sr"))) {
      throw new SmException(
          SmError.BAD_REQUEST, "VDI config is for SR " + kv.get("sr") + ", not " + uuid);
    }
    String location = kv.get("vdi");
    attachVdi(location, !info(existing(tree(), location)).readOnly());
    return activateVdi(location);
  }

  // ---- CBT ----

  @Override
  public void enableCbt(String location) throws SmException {
    locked(
        () -> {
          VhdTree.Node n = existing(tree(), location);
          try {
            if (!store.exists(CbtLog.fileOf(n.uuid))) {
              new CbtLog(null, n.virtualSizeBytes, true, new java.util.BitSet())
                  .write(store, n.uuid);
            }
            VhdVdiDevice d = activeDevice(location);
            if (d != null) {
              d.startTracking();
            }
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.GENERAL, "enable CBT on VDI " + location);
          }
          return null;
        });
  }

  @Override
  public void disableCbt(String location) throws SmException {
    locked(
        () -> {
          existing(tree(), location);
          VhdVdiDevice d = activeDevice(location);
          if (d != null) {
            d.stopTracking();
          }
          try {
            PropertiesFile.deleteIfExists(store, CbtLog.fileOf(location));
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.GENERAL, "disable CBT on VDI " + location);
          }
          return null;
        });
  }

  @Override
  public ChangedBlocks listChangedBlocks(String fromLocation, String toLocation)
      throws SmException {
    return locked(() -> Cbt.changedBlocks(this, fromLocation, toLocation));
  }

  @Override
  public void dataDestroy(String location) throws SmException {
    locked(
        () -> {
          VhdTree.Node n = existing(tree(), location);
          VdiMetadata meta = readMeta(location);
          try {
            if (!store.exists(CbtLog.fileOf(location))) {
              throw new SmException(
                  SmError.VDI_NO_CBT_METADATA, "VDI " + location + " has no CBT log");
            }
            if (!readOnlyFlag(location) || attached.containsKey(location)) {
              throw new SmException(
                  SmError.BAD_REQUEST,
                  "data destroy needs a detached snapshot VDI; " + location + " is not one");
            }
            if (!n.isLeaf()) {
              throw new SmException(
                  SmError.BAD_REQUEST,
                  "VDI " + location + " has clones reading through it; its data must stay");
            }
            store.delete(VhdTree.fileOf(n.uuid));
            store.syncMetadata();
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.VDI_DELETE, "data destroy of VDI " + location);
          }
          return null;
        });
  }

  /** Chain depth of a VDI, for the chain-length limit. */
  int depth(VhdTree.Node n) {
    return n.depth();
  }

  /** Opens a node read-only (for creating children over it). */
  VhdImage openNode(String u) throws IOException {
    return VhdImage.open(store, VhdTree.fileOf(u), false);
  }
}
