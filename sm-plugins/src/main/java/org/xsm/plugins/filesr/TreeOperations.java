package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.List;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.TreeChange;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.store.ImageStore;

/**
 * Snapshot and clone of a VHD-tree SR (the steps are in {@link BatchSnapshot}, a single snapshot
 * being a batch of one) and their crash recovery: rolling back every operation whose op log
 * remains.
 */
final class TreeOperations {
  private TreeOperations() {}

  /** One snapshot or clone, under the SR lock. */
  static TreeChange snapshot(
      FileSr sr, String location, SnapshotKind kind, VdiMetadata metadata, boolean clone)
      throws SmException {
    return BatchSnapshot.one(sr, location, kind, metadata, clone);
  }

  /**
   * Rolls back every operation whose log remains (single or batch), and removes temporary files.
   */
  static void recover(FileSr sr) throws IOException {
    ImageStore store = sr.store;
    for (String name : store.list()) {
      if (name.startsWith(OpLog.PREFIX) && !name.endsWith(".tmp")) {
        rollback(store, name, OpLog.readAll(store, name));
      }
    }
    for (String name : store.list()) {
      if (name.startsWith(".") && (name.endsWith(".creating") || name.endsWith(".tmp"))) {
        store.delete(name);
      }
    }
    store.syncMetadata();
  }

  /**
   * Undoes every entry of the log {@code logName}, then deletes it. Idempotent: a crash during a
   * rollback leaves a state the next rollback finishes.
   */
  static void rollback(ImageStore store, String logName, List<OpLog> entries) throws IOException {
    for (int i = entries.size() - 1; i >= 0; i--) {
      undo(store, entries.get(i));
    }
    store.syncMetadata();
    PropertiesFile.deleteIfExists(store, logName);
  }

  /** A single operation's rollback (its log is {@code .oplog-<leaf>}). */
  static void rollback(ImageStore store, OpLog log) throws IOException {
    rollback(store, log.fileName(), List.of(log));
  }

  private static void undo(ImageStore store, OpLog log) throws IOException {
    if (log.child() != null) {
      deleteIfExists(store, VhdTree.existingFile(store, log.child()));
      deleteIfExists(store, FileSr.metaFileOf(log.child()));
      if (log.cbtSnapshot() == null) {
        // A clone's own new log (a snapshot's is the leaf's old one, renamed back below).
        deleteIfExists(store, CbtLog.fileOf(log.child()));
      }
    }
    String baseFile = log.base() == null ? null : VhdTree.existingFile(store, log.base());
    if (baseFile != null && store.exists(baseFile)) {
      ImageFormat f = ImageFormat.ofFileName(baseFile).orElseThrow();
      deleteIfExists(store, VhdTree.fileOf(log.leaf(), f));
      store.syncMetadata();
      f.setHidden(store, baseFile, false);
      store.rename(baseFile, VhdTree.fileOf(log.leaf(), f));
      store.syncMetadata();
      deleteIfExists(store, FileSr.metaFileOf(log.base()));
    }
    if (log.cbtSnapshot() != null && store.exists(CbtLog.fileOf(log.cbtSnapshot()))) {
      store.rename(CbtLog.fileOf(log.cbtSnapshot()), CbtLog.fileOf(log.leaf()));
    }
  }

  private static void deleteIfExists(ImageStore store, String name) throws IOException {
    if (store.exists(name)) {
      store.delete(name);
    }
  }
}
