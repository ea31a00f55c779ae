package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SrStats;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.store.StoreEntry;

/**
 * Scan and space figures of a {@link FileSr}: one listing of the store with sizes and times, crash
 * recovery only when the listing shows something for it, then the model rebuilt from the listing
 * ({@link SrModel#refresh(List)}, rereading only changed files). Under the SR lock, in a managed
 * operation.
 */
final class SrScan {
  private SrScan() {}

  static List<VdiInfo> scan(FileSr sr) throws SmException {
    try {
      List<StoreEntry> listing = sr.store.listEntries();
      if (needsRecovery(listing)) {
        sr.recover();
        listing = sr.store.listEntries();
      }
      sr.model.refresh(listing);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_SCAN, "scan of SR " + sr.uuid());
    }
    VhdTree tree = sr.modelTree();
    Set<String> cbt = sr.model.cbtLogsAtRefresh();
    List<VdiInfo> out = new ArrayList<>();
    for (VhdTree.Node n : tree.nodes()) {
      if (n.hidden && tree.isGarbage(n)) {
        continue; // hidden leaves and what only they need: the GC's to delete
      }
      out.add(sr.info(n, cbt.contains(n.uuid)));
    }
    for (String u : cbt) {
      if (VhdTree.UUID.matcher(u).matches() && tree.get(u) == null) {
        out.add(cbtMetadataInfo(sr, u));
      }
    }
    sr.measureBacklog(tree);
    return out;
  }

  /**
   * Whether a listing shows anything recovery acts on: every op log, journal and temporary file of
   * the SR and its GC is a dot-file ({@code .oplog-*}, {@code .hide-*}, {@code .gc-*}, {@code
   * .old-*}, {@code .*.creating}, {@code .*.tmp}); only the SR's identity, the model cache and the
   * shared lock are dot-files that stay. Lets a scan skip recovery's own listings when there is
   * nothing to do.
   */
  static boolean needsRecovery(List<StoreEntry> listing) {
    for (StoreEntry e : listing) {
      String n = e.name();
      if (n.startsWith(".")
          && !n.equals(FileSrDriver.SR_FILE)
          && !n.equals(ModelCache.FILE)
          && !n.startsWith(StoreLock.NAME)) {
        return true;
      }
    }
    return false;
  }

  /** A VDI whose data was destroyed and whose CBT log remains ({@code cbt_metadata}). */
  private static VdiInfo cbtMetadataInfo(FileSr sr, String u) throws SmException {
    try {
      CbtLog log = CbtLog.read(sr.store, u);
      VdiMetadata m = sr.readMeta(u);
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
      throw SmErrors.of(e, SmError.SR_SCAN, "scan of SR " + sr.uuid());
    }
  }

  static SrStats stats(FileSr sr) throws SmException {
    try {
      sr.model.refresh(); // sizes of active leaves change with their writes
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_UNAVAILABLE, "stats of SR " + sr.uuid());
    }
    VhdTree tree = sr.modelTree();
    sr.measureBacklog(tree);
    long used = 0;
    long virtual = 0;
    for (VhdTree.Node n : tree.nodes()) {
      used += n.physicalSizeBytes;
      if (!n.hidden) {
        virtual += n.virtualSizeBytes;
      }
    }
    try {
      long cap = sr.store.capacityBytes();
      return new SrStats(cap < 0 ? used : cap, used, virtual);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_UNAVAILABLE, "stats of SR " + sr.uuid());
    }
  }
}
