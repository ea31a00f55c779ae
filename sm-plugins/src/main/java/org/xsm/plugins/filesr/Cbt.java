package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.BitSet;
import org.xsm.api.ChangedBlocks;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.plugins.store.ImageStore;

/** Changed-block tracking across snapshots (see {@link CbtLog} for the model). */
final class Cbt {
  private static final int MAX_WALK = 100_000;

  private Cbt() {}

  /**
   * At a snapshot {@code snap} of {@code leaf}: the snapshot takes the leaf's log (changes up to
   * now), the leaf starts a new one after the snapshot. Each step replaces one whole file; a crash
   * between them leaves two logs with the same content, which rollback resolves.
   */
  static void rotate(ImageStore store, String leaf, String snap) throws IOException {
    CbtLog cur = CbtLog.read(store, leaf);
    cur.write(store, snap);
    new CbtLog(snap, cur.virtualSizeBytes, true, new BitSet()).write(store, leaf);
  }

  /**
   * At a clone {@code copy} of a writable VDI {@code src} (paused, so its log is current): the copy
   * holds what {@code src} holds now, so it starts with a copy of {@code src}'s log, continuing
   * from the same snapshot. One whole-file write; the operation's rollback deletes it.
   */
  static void fork(ImageStore store, String src, String copy) throws IOException {
    CbtLog.read(store, src).write(store, copy);
  }

  /**
   * At a clone or snapshot {@code child} of snapshot {@code snap} (VM revert clones a snapshot):
   * the child starts with a log continuing from {@code snap}, so the changes from {@code snap} (or
   * any earlier tracked snapshot) to it can be listed. One whole-file write, rolled back likewise.
   */
  static void continueFrom(ImageStore store, String snap, String child) throws IOException {
    CbtLog s = CbtLog.read(store, snap);
    new CbtLog(snap, s.virtualSizeBytes, true, new BitSet()).write(store, child);
  }

  /**
   * Before VDI {@code gone}'s log is deleted: the logs that continue from it take over its changes
   * and its parent, so that queries spanning it still work. A crash after this step leaves a log
   * nobody refers to, which the delete then removes.
   */
  static void foldIntoSuccessors(ImageStore store, String gone) throws IOException {
    CbtLog log = CbtLog.read(store, gone);
    if (log == null) {
      return;
    }
    for (String name : store.list()) {
      if (!name.endsWith(".cbtlog") || name.startsWith(".")) {
        continue;
      }
      String u = name.substring(0, name.length() - ".cbtlog".length());
      CbtLog next = CbtLog.read(store, u);
      if (next != null && gone.equals(next.parent)) {
        BitSet merged = (BitSet) next.changed.clone();
        merged.or(log.changed);
        new CbtLog(log.parent, next.virtualSizeBytes, next.consistent && log.consistent, merged)
            .write(store, u);
      }
    }
  }

  static ChangedBlocks changedBlocks(FileSr sr, String from, String to) throws SmException {
    for (String loc : new String[] {from, to}) {
      try {
        if (loc == null
            || !(sr.store.exists(VhdTree.existingFile(sr.store, loc))
                || sr.store.exists(CbtLog.fileOf(loc)))) {
          throw new SmException(SmError.VDI_MISSING, "VDI " + loc + " is not on SR " + sr.uuid());
        }
      } catch (IOException e) {
        throw SmErrors.of(e, SmError.VDI_MISSING, "CBT query " + from + " -> " + to);
      }
    }
    try {
      BitSet acc = new BitSet();
      long size = -1;
      String cur = to;
      for (int i = 0; i < MAX_WALK && !cur.equals(from); i++) {
        CbtLog log = CbtLog.read(sr.store, cur);
        if (log == null) {
          throw new SmException(
              SmError.VDI_NO_CBT_METADATA, "VDI " + cur + " has no CBT log (from " + from + ")");
        }
        VhdVdiDevice d = sr.activeDevice(cur);
        BitSet live = d == null ? null : d.trackedChanges();
        if (live != null) {
          acc.or(live);
        } else if (!log.consistent) {
          throw new SmException(
              SmError.VDI_NO_CBT_METADATA,
              "CBT log of VDI " + cur + " is inconsistent (the VDI was active during a crash)");
        } else {
          acc.or(log.changed);
        }
        if (size < 0) {
          size = log.virtualSizeBytes;
        }
        if (log.parent == null) {
          throw new SmException(
              SmError.VDI_NO_CBT_METADATA,
              "VDI " + from + " is not an earlier snapshot of " + to + " in the CBT history");
        }
        cur = log.parent;
      }
      if (size < 0) {
        CbtLog log = CbtLog.read(sr.store, to);
        if (log == null) {
          throw new SmException(SmError.VDI_NO_CBT_METADATA, "VDI " + to + " has no CBT log");
        }
        size = log.virtualSizeBytes;
      }
      return new ChangedBlocks(CbtLog.BLOCK_SIZE, size, acc);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.VDI_NO_CBT_METADATA, "CBT query " + from + " -> " + to);
    }
  }
}
