package org.xsm.plugins.filesr;

import java.io.IOException;
import org.xsm.api.ChangedBlocks;
import org.xsm.api.SmError;
import org.xsm.api.SmException;

/** Changed-block tracking on a {@link FileSr}: enable, disable, list changes, data destroy. */
final class CbtOperations {
  private CbtOperations() {}

  static void enableCbt(FileSr sr, String location) throws SmException {
    sr.managed(
        () -> {
          VhdTree.Node n = sr.existing(location);
          try {
            if (!sr.store.exists(CbtLog.fileOf(n.uuid))) {
              new CbtLog(null, n.virtualSizeBytes, true, new java.util.BitSet())
                  .write(sr.store, n.uuid);
            }
            VhdVdiDevice d = sr.activeDevice(location);
            if (d != null) {
              d.startTracking();
            }
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.GENERAL, "enable CBT on VDI " + location);
          }
          return null;
        });
  }

  static void disableCbt(FileSr sr, String location) throws SmException {
    sr.managed(
        () -> {
          sr.existing(location);
          VhdVdiDevice d = sr.activeDevice(location);
          if (d != null) {
            d.stopTracking();
          }
          try {
            PropertiesFile.deleteIfExists(sr.store, CbtLog.fileOf(location));
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.GENERAL, "disable CBT on VDI " + location);
          }
          return null;
        });
  }

  static ChangedBlocks listChangedBlocks(FileSr sr, String fromLocation, String toLocation)
      throws SmException {
    return sr.locked(() -> Cbt.changedBlocks(sr, fromLocation, toLocation));
  }

  static void dataDestroy(FileSr sr, String location) throws SmException {
    sr.managed(
        () -> {
          VhdTree.Node n = sr.existing(location);
          try {
            if (!sr.store.exists(CbtLog.fileOf(location))) {
              throw new SmException(
                  SmError.VDI_NO_CBT_METADATA, "VDI " + location + " has no CBT log");
            }
            if (!sr.readOnlyFlag(location) || sr.attached.containsKey(location)) {
              throw new SmException(
                  SmError.BAD_REQUEST,
                  "data destroy needs a detached snapshot VDI; " + location + " is not one");
            }
            if (!n.isLeaf()) {
              // Clones read through this snapshot: as in sm's FileSR, where they read a hidden
              // base copy, the data becomes one (fresh UUID) and the VDI keeps only its CBT log.
              HiddenRename.run(sr, n, true);
              sr.model.invalidate();
              return null;
            }
            sr.store.delete(n.file());
            sr.store.syncMetadata();
            sr.model.removeVhd(n.uuid);
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.VDI_DELETE, "data destroy of VDI " + location);
          }
          return null;
        });
  }
}
