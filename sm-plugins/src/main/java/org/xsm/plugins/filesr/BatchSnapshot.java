package org.xsm.plugins.filesr;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.SnapshotRequest;
import org.xsm.api.TreeChange;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.IoActions;

/**
 * Snapshot and clone of a VHD-tree SR, as xapi's FileVDI._snapshot does them, for one VDI or for a
 * batch of VDIs (a VM's disks) made atomic together. A single snapshot is a batch of one.
 *
 * <p>Steps, each durable before the next, each done for every VDI of the batch before the next step
 * starts, with one directory sync per step for all of them and their forces overlapping ({@link
 * ParallelSteps}) (the name after each is its {@link CrashPoints} name, prefixed {@code snapshot.}
 * for one VDI and {@code batch.} for a batch):
 *
 * <ol>
 *   <li>write the op log naming, per VDI L, the new base copy B and the new child S ({@code
 *       .oplog-L} for one VDI, {@code .oplog-batch-<id>} for a batch: temp file, force, rename,
 *       directory sync) ({@code logged});
 *   <li>pause every active device of the batch (flush, close the leaf; its parents stay open);
 *       rename each {@code L.vhd} to {@code B.vhd}: its data is now the base; directory sync
 *       ({@code base-renamed});
 *   <li>in one parallel round, for every VDI: create {@code L.vhd}, an empty child of B (L keeps
 *       its UUID as the writable leaf); DOUBLE: create {@code S.vhd}, the snapshot (or clone), an
 *       empty child of B; DOUBLE and INTERNAL: mark B hidden (SINGLE keeps B visible, it is the
 *       snapshot); write the new VDI's metadata. Each file is written whole, forced and renamed
 *       into place; the footers of B are rewritten in place, each copy forced. Then one directory
 *       sync ({@code created});
 *   <li>rotate CBT logs (a clone copies the leaf's log instead) ({@code cbt-rotated});
 *   <li>delete the op log, directory sync ({@code committed}); resume the devices on their new
 *       leaves (reopening only the new leaf and B; the parents were kept open).
 * </ol>
 *
 * <p>The devices stay paused from step 2 to step 5 together: resuming one earlier would let a write
 * be acknowledged in a new leaf that a rollback then deletes. The window is kept short by the
 * shared directory syncs and by never reading or rewriting a block table (a child is created from
 * its parent's footer and header, written in one call).
 *
 * <p>A snapshot (or clone) of a read-only VDI (a snapshot) needs no base copy: its entry has no B,
 * and S is created over L itself at step 3.
 *
 * <p>Recovery ({@link TreeOperations#recover}, on attach and scan, or at once when a step fails)
 * rolls back every entry of a log that still exists: delete S; if B exists, delete the new L,
 * unhide B and rename it back to L; restore L's CBT log; then delete the log. Every crash point
 * leaves a state this undoes exactly, since nothing is written into L or S before the log is gone;
 * so a batch is all or nothing.
 */
final class BatchSnapshot {
  private final FileSr sr;
  private final ImageStore store;
  private final boolean clone;
  private final String points;
  private final List<Entry> entries = new ArrayList<>();

  /** One VDI of the operation: its node, what will be made, and its log entry. */
  private record Entry(
      VhdTree.Node node,
      SnapshotKind kind,
      VdiMetadata meta,
      boolean cbt,
      OpLog log,
      List<Pausable> devices) {
    String result() {
      return log.child() != null ? log.child() : log.base();
    }
  }

  private BatchSnapshot(FileSr sr, boolean clone, boolean batch) {
    this.sr = sr;
    this.store = sr.store;
    this.clone = clone;
    this.points = batch ? "batch." : "snapshot.";
  }

  /** {@link org.xsm.api.Sr#snapshotAll}: under the SR lock, in a managed operation. */
  static List<TreeChange> run(FileSr sr, List<SnapshotRequest> requests) throws SmException {
    if (requests.isEmpty()) {
      return List.of();
    }
    BatchSnapshot b = new BatchSnapshot(sr, false, requests.size() > 1);
    Set<String> seen = new HashSet<>();
    for (SnapshotRequest r : requests) {
      if (!seen.add(r.location())) {
        throw new SmException(
            SmError.BAD_REQUEST, "VDI " + r.location() + " appears twice in one batched snapshot");
      }
      b.add(r.location(), r.kind(), r.metadata());
    }
    return b.execute();
  }

  /** One snapshot or clone: under the SR lock. */
  static TreeChange one(
      FileSr sr, String location, SnapshotKind kind, VdiMetadata metadata, boolean clone)
      throws SmException {
    BatchSnapshot b = new BatchSnapshot(sr, clone, false);
    b.add(location, kind, metadata);
    return b.execute().get(0);
  }

  private String what(String location) {
    return (clone ? "clone" : "snapshot") + " of VDI " + location;
  }

  private SmError code() {
    return clone ? SmError.VDI_CLONE : SmError.VDI_SNAPSHOT;
  }

  private void add(String location, SnapshotKind kind, VdiMetadata metadata) throws SmException {
    VhdTree.Node n = sr.chainNode(location);
    if (n.hidden) {
      throw new SmException(code(), what(location) + ": it is a base copy");
    }
    if (n.depth() >= FileSr.MAX_CHAIN_DEPTH) {
      throw new SmException(
          SmError.SNAPSHOT_CHAIN_TOO_LONG,
          what(location)
              + ": its chain is "
              + n.depth()
              + " deep, the limit is "
              + FileSr.MAX_CHAIN_DEPTH
              + "; wait for the garbage collector to coalesce it");
    }
    VdiMetadata meta = metadata != null ? metadata : defaultMeta(location);
    boolean cbt;
    try {
      cbt = store.exists(CbtLog.fileOf(location));
    } catch (IOException e) {
      throw SmErrors.of(e, code(), what(location));
    }
    String op = clone ? "clone" : "snapshot";
    if (sr.readOnlyFlag(location)) {
      // Its data never changes: the new VDI is simply a new child of it, no base copy.
      String child = UUID.randomUUID().toString();
      entries.add(
          new Entry(n, kind, meta, cbt, new OpLog(op, location, null, child, null), List.of()));
      return;
    }
    String base = UUID.randomUUID().toString();
    String child = kind == SnapshotKind.DOUBLE ? UUID.randomUUID().toString() : null;
    String result = child != null ? child : base;
    OpLog log = new OpLog(op, location, base, child, cbt && !clone ? result : null);
    entries.add(new Entry(n, kind, meta, cbt, log, sr.pausables(location)));
  }

  private List<TreeChange> execute() throws SmException {
    String logName =
        points.equals("batch.")
            ? OpLog.BATCH_PREFIX + UUID.randomUUID()
            : entries.get(0).log.fileName();
    List<OpLog> logs = entries.stream().map(Entry::log).toList();
    String what = what(entries.get(0).node.uuid) + (entries.size() > 1 ? " and others" : "");
    List<Pausable> paused = new ArrayList<>();
    try {
      try {
        if (points.equals("batch.")) {
          OpLog.writeBatch(store, logName, logs);
        } else {
          logs.get(0).write(store);
        }
        CrashPoints.hit(points + "logged");
        // Paused until the log is gone: a write acknowledged in a new leaf must never meet a
        // rollback, which deletes that leaf.
        for (Entry e : entries) {
          for (Pausable device : e.devices) {
            paused.add(device); // resumed even if its pause fails half-way (unlocks it)
            device.pauseKeepingParents();
          }
        }
        steps();
        PropertiesFile.deleteIfExists(store, logName);
        CrashPoints.hit(points + "committed");
      } catch (IOException e) {
        SmException failure = SmErrors.of(e, code(), what);
        try {
          TreeOperations.rollback(store, logName, logs);
        } catch (IOException r) {
          failure.addSuppressed(r);
        }
        throw failure;
      } finally {
        resume(paused);
      }
    } catch (IOException e) {
      throw SmErrors.of(e, code(), what + " (resuming its device)");
    }
    try {
      return changes();
    } catch (IOException e) {
      throw SmErrors.of(e, code(), what + " (recording the new tree)");
    }
  }

  /** One file the creation step writes. */
  private interface Creation {
    void run() throws IOException;
  }

  private void steps() throws IOException {
    for (Entry e : entries) {
      if (e.log.base() != null) {
        ImageFormat f = e.node.format;
        store.rename(VhdTree.fileOf(e.log.leaf(), f), VhdTree.fileOf(e.log.base(), f));
      }
    }
    store.syncMetadata();
    CrashPoints.hit(points + "base-renamed");
    // Every new file of every disk, and the bases' hidden flags, in one parallel round: nothing
    // here depends on another (children read their parent's footer, taken first), and the rollback
    // undoes any mix of them.
    List<Creation> round = new ArrayList<>();
    for (Entry e : entries) {
      String base = e.log.base();
      String parent = base != null ? base : e.log.leaf();
      ImageFormat f = e.node.format;
      if (base != null) {
        round.add(() -> createChild(e.log.leaf(), parent, f));
      }
      if (e.log.child() != null) {
        round.add(() -> createChild(e.log.child(), parent, f));
      }
      if (base != null && e.kind != SnapshotKind.SINGLE) {
        round.add(() -> f.setHiddenUnjournaled(store, VhdTree.fileOf(base, f), true));
      }
      if (e.kind != SnapshotKind.INTERNAL || base == null) {
        Map<String, String> meta = SrModel.format(e.meta, !clone);
        round.add(() -> PropertiesFile.writeUnsynced(store, FileSr.metaFileOf(e.result()), meta));
      }
    }
    ParallelSteps.forEach(round, sr.keepsModel(), Creation::run);
    store.syncMetadata();
    for (Entry e : entries) {
      if (e.kind != SnapshotKind.INTERNAL || e.log.base() == null) {
        sr.model.putMeta(e.result(), new SrModel.Meta(e.meta, !clone));
      }
    }
    CrashPoints.hit(points + "created");
    for (Entry e : entries) {
      if (e.cbt) {
        if (e.log.base() == null) {
          Cbt.continueFrom(store, e.log.leaf(), e.result());
        } else if (clone) {
          Cbt.fork(store, e.log.leaf(), e.result());
        } else {
          Cbt.rotate(store, e.log.leaf(), e.result());
        }
      }
    }
    CrashPoints.hit(points + "cbt-rotated");
  }

  /**
   * Resumes every paused device (each reopens its VDI's leaf); the first failure is thrown after
   * all were tried.
   */
  private static void resume(List<Pausable> paused) throws IOException {
    IoActions.forAll(paused, Pausable::resume);
  }

  /** An empty child over {@code parent}, in its format, from the parent's summary only. */
  private void createChild(String child, String parent, ImageFormat f) throws IOException {
    f.snapshotUnsynced(store, VhdTree.fileOf(child, f), VhdTree.fileOf(parent, f));
  }

  private VdiMetadata defaultMeta(String location) throws SmException {
    VdiMetadata src = sr.readMeta(location);
    String name = src == null ? "" : src.nameLabel();
    String type = src == null ? "user" : src.type();
    return clone
        ? new VdiMetadata(name, "", type, false, null, null)
        : new VdiMetadata(name, "", type, true, location, Instant.now());
  }

  /** Records the new files in the model and describes what changed, for the caller. */
  private List<TreeChange> changes() throws IOException, SmException {
    SrModel model = sr.model;
    for (Entry e : entries) {
      VhdTree.Node n = e.node;
      String base = e.log.base();
      long virtual = n.virtualSizeBytes;
      if (base != null) {
        model.putVhd(base, n.format, n.parentUuid, e.kind != SnapshotKind.SINGLE, virtual);
        model.putVhd(n.uuid, n.format, base, false, virtual);
      }
      if (e.log.child() != null) {
        model.putVhd(e.log.child(), n.format, base != null ? base : n.uuid, false, virtual);
      }
    }
    List<TreeChange> out = new ArrayList<>();
    for (Entry e : entries) {
      String base = e.log.base();
      String result = e.result();
      List<VdiInfo> changed = new ArrayList<>();
      if (base != null) {
        if (!base.equals(result)) {
          changed.add(sr.info(sr.existing(base), false));
        }
        changed.add(sr.info(sr.existing(e.log.leaf())));
      }
      out.add(new TreeChange(sr.info(sr.existing(result)), changed));
    }
    return out;
  }
}
