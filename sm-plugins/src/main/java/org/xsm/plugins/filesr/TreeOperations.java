package org.xsm.plugins.filesr;

import java.io.IOException;
import java.time.Instant;
import java.util.UUID;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.vhd.Vhd;
import org.xsm.plugins.vhd.VhdCreator;
import org.xsm.plugins.vhd.VhdImage;

/**
 * Snapshot and clone of a VHD-tree SR, as xapi's FileVDI._snapshot does them, and their crash
 * recovery.
 *
 * <p>Steps for VDI {@code L} (each durable before the next; the name after each is its {@link
 * CrashPoints} name):
 *
 * <ol>
 *   <li>pause L's device if active (flush, close); write the op log {@code .oplog-L} naming L, the
 *       new base copy B and the new child S ({@code snapshot.logged});
 *   <li>rename {@code L.vhd} to {@code B.vhd}: the data is now the base ({@code
 *       snapshot.base-renamed});
 *   <li>create {@code L.vhd}, an empty child of B: L keeps its UUID as the writable leaf ({@code
 *       snapshot.leaf-created});
 *   <li>DOUBLE: create {@code S.vhd}, the snapshot (or clone), an empty child of B ({@code
 *       snapshot.child-created});
 *   <li>DOUBLE and INTERNAL: mark B hidden ({@code snapshot.base-hidden}); SINGLE keeps B visible,
 *       it is the snapshot;
 *   <li>write the new VDI's metadata ({@code snapshot.meta-written}); rotate CBT logs (a clone
 *       copies the leaf's log instead) ({@code snapshot.cbt-rotated});
 *   <li>delete the op log ({@code snapshot.committed}); resume the device on the new leaf.
 * </ol>
 *
 * <p>Recovery (on attach and scan, or at once when a step fails) rolls an operation whose log still
 * exists back: delete S; if B exists, delete the new L, unhide B and rename it back to L; restore
 * L's CBT log from the copy; delete the log. Every crash point leaves a state this undoes exactly,
 * since nothing is written into L or S before the log is gone.
 */
final class TreeOperations {
  private TreeOperations() {}

  static VdiInfo snapshot(
      FileSr sr, String location, SnapshotKind kind, VdiMetadata metadata, boolean clone)
      throws SmException {
    String what = (clone ? "clone" : "snapshot") + " of VDI " + location;
    SmError code = clone ? SmError.VDI_CLONE : SmError.VDI_SNAPSHOT;
    ImageStore store = sr.store;
    VhdTree.Node n = sr.chainNode(location);
    if (n.hidden) {
      throw new SmException(code, what + ": it is a base copy");
    }
    if (sr.depth(n) >= FileSr.MAX_CHAIN_DEPTH) {
      throw new SmException(
          SmError.SNAPSHOT_CHAIN_TOO_LONG,
          what
              + ": its chain is "
              + sr.depth(n)
              + " deep, the limit is "
              + FileSr.MAX_CHAIN_DEPTH
              + "; wait for the garbage collector to coalesce it");
    }
    if (sr.readOnlyFlag(location)) {
      return childOfReadOnly(sr, location, metadata, clone, code, what);
    }
    String base = UUID.randomUUID().toString();
    String child = kind == SnapshotKind.DOUBLE ? UUID.randomUUID().toString() : null;
    String result = child != null ? child : base;
    VdiMetadata meta = metadata != null ? metadata : defaultMeta(sr, location, clone);
    boolean cbt;
    try {
      cbt = store.exists(CbtLog.fileOf(location));
    } catch (IOException e) {
      throw SmErrors.of(e, code, what);
    }
    OpLog log =
        new OpLog(
            clone ? "clone" : "snapshot", location, base, child, cbt && !clone ? result : null);
    VhdVdiDevice device = sr.activeDevice(location);
    try {
      if (device != null) {
        device.pause();
      }
      try {
        log.write(store);
        CrashPoints.hit("snapshot.logged");
        store.rename(VhdTree.fileOf(location), VhdTree.fileOf(base));
        store.syncMetadata();
        CrashPoints.hit("snapshot.base-renamed");
        try (VhdImage b = VhdImage.open(store, VhdTree.fileOf(base), false)) {
          VhdCreator.createDifferencing(store, VhdTree.fileOf(location), b, 0).close();
          CrashPoints.hit("snapshot.leaf-created");
          if (child != null) {
            VhdCreator.createDifferencing(store, VhdTree.fileOf(child), b, 0).close();
            CrashPoints.hit("snapshot.child-created");
          }
        }
        if (kind != SnapshotKind.SINGLE) {
          Vhd.setHidden(store, VhdTree.fileOf(base), true);
          CrashPoints.hit("snapshot.base-hidden");
        }
        if (kind != SnapshotKind.INTERNAL) {
          sr.writeMeta(result, meta, !clone);
          CrashPoints.hit("snapshot.meta-written");
        }
        if (cbt && clone) {
          Cbt.fork(store, location, result);
          CrashPoints.hit("snapshot.cbt-rotated");
        } else if (cbt) {
          Cbt.rotate(store, location, result);
          CrashPoints.hit("snapshot.cbt-rotated");
        }
        log.delete(store);
        CrashPoints.hit("snapshot.committed");
      } catch (IOException e) {
        throw rolledBack(store, log, SmErrors.of(e, code, what));
      } finally {
        if (device != null) {
          device.resume();
        }
      }
    } catch (IOException e) {
      throw SmErrors.of(e, code, what + " (pausing or resuming its device)");
    }
    return sr.info(sr.existing(sr.tree(), result));
  }

  /**
   * Snapshot or clone of a snapshot: its data never changes, so the new VDI is simply a new child
   * of it (no base copy), created under an op log so that a crash cannot leave it half-made.
   */
  private static VdiInfo childOfReadOnly(
      FileSr sr, String location, VdiMetadata metadata, boolean clone, SmError code, String what)
      throws SmException {
    ImageStore store = sr.store;
    String child = UUID.randomUUID().toString();
    VdiMetadata meta = metadata != null ? metadata : defaultMeta(sr, location, clone);
    OpLog log = new OpLog(clone ? "clone" : "snapshot", location, null, child, null);
    try {
      log.write(store);
      try (VhdImage parent = VhdImage.open(store, VhdTree.fileOf(location), false)) {
        VhdCreator.createDifferencing(store, VhdTree.fileOf(child), parent, 0).close();
      }
      sr.writeMeta(child, meta, !clone);
      if (store.exists(CbtLog.fileOf(location))) {
        Cbt.continueFrom(store, location, child);
      }
      log.delete(store);
    } catch (IOException e) {
      throw rolledBack(store, log, SmErrors.of(e, code, what));
    }
    return sr.info(sr.chainNode(child));
  }

  private static VdiMetadata defaultMeta(FileSr sr, String location, boolean clone)
      throws SmException {
    VdiMetadata src = sr.readMeta(location);
    String name = src == null ? "" : src.nameLabel();
    String type = src == null ? "user" : src.type();
    return clone
        ? new VdiMetadata(name, "", type, false, null, null)
        : new VdiMetadata(name, "", type, true, location, Instant.now());
  }

  /** Rolls back every operation whose log remains, and removes temporary files. */
  static void recover(FileSr sr) throws IOException {
    ImageStore store = sr.store;
    for (String name : store.list()) {
      if (name.startsWith(OpLog.PREFIX) && !name.endsWith(".tmp")) {
        OpLog log = OpLog.read(store, name);
        if (log != null) {
          rollback(store, log);
        }
      }
    }
    for (String name : store.list()) {
      if (name.startsWith(".") && (name.endsWith(".creating") || name.endsWith(".tmp"))) {
        store.delete(name);
      }
    }
    store.syncMetadata();
  }

  /** Rolls the operation back at once; a failure to do so is kept with the original failure. */
  private static SmException rolledBack(ImageStore store, OpLog log, SmException failure) {
    try {
      rollback(store, log);
    } catch (IOException r) {
      failure.addSuppressed(r);
    }
    return failure;
  }

  static void rollback(ImageStore store, OpLog log) throws IOException {
    if (log.child() != null) {
      deleteIfExists(store, VhdTree.fileOf(log.child()));
      deleteIfExists(store, FileSr.metaFileOf(log.child()));
      if (log.cbtSnapshot() == null) {
        // A clone's own new log (a snapshot's is the leaf's old one, renamed back below).
        deleteIfExists(store, CbtLog.fileOf(log.child()));
      }
    }
    String baseFile = log.base() == null ? null : VhdTree.fileOf(log.base());
    if (baseFile != null && store.exists(baseFile)) {
      deleteIfExists(store, VhdTree.fileOf(log.leaf()));
      store.syncMetadata();
      Vhd.setHidden(store, baseFile, false);
      store.rename(baseFile, VhdTree.fileOf(log.leaf()));
      store.syncMetadata();
      deleteIfExists(store, FileSr.metaFileOf(log.base()));
    }
    if (log.cbtSnapshot() != null && store.exists(CbtLog.fileOf(log.cbtSnapshot()))) {
      store.rename(CbtLog.fileOf(log.cbtSnapshot()), CbtLog.fileOf(log.leaf()));
    }
    store.syncMetadata();
    log.delete(store);
  }

  private static void deleteIfExists(ImageStore store, String name) throws IOException {
    if (store.exists(name)) {
      store.delete(name);
    }
  }
}
