package org.xsm.server.transfer;

import java.time.Instant;
import java.util.BitSet;
import java.util.UUID;
import java.util.function.LongConsumer;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.plugins.vhd.VhdOwnBlocks;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.SrService;
import org.xsm.server.vdi.CbtService;

/**
 * Decides what a VHD export with a {@code base} holds: with CBT enabled on both VDIs, the blocks
 * CBT reports changed since the base (the base is not read, so it may be a {@code cbt_metadata} VDI
 * whose data was destroyed, as Xen Orchestra leaves its old snapshots); otherwise the blocks that
 * differ when both are read (the base is activated for the comparison only).
 */
final class ExportPlan {
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(ExportPlan.class);

  private final Database db;
  private final SrService storage;
  private final CbtService cbt;

  ExportPlan(Database db, SrService storage, CbtService cbt) {
    this.db = db;
    this.storage = storage;
    this.cbt = cbt;
  }

  /** How the blocks of a delta were chosen (told in the log and the tests). */
  enum Source {
    CBT,
    COMPARISON
  }

  /**
   * The blocks to send, how they were found, and from CBT the changed granules within them (else
   * null: blocks go whole).
   */
  record Delta(BitSet blocks, Source source, DeltaBlocks.Granules granules) {}

  /** The identity an export of {@code vdi} carries: its UUID, its snapshot time (else now). */
  VhdExport.Identity identity(Ref<Vdi> vdi) throws XenApiException {
    Instant t = db.get(vdi, Vdi.SNAPSHOT_TIME);
    boolean snapshot = db.get(vdi, Vdi.IS_A_SNAPSHOT) && t.isAfter(Instant.EPOCH);
    long unix = snapshot ? t.getEpochSecond() : Instant.now().getEpochSecond();
    return new VhdExport.Identity(
        UUID.fromString(db.get(vdi, Vdi.UUID)), VhdOwnBlocks.vhdTimestamp(unix));
  }

  /** The parent a delta over {@code base} names: its identity and {@code <uuid>.vhd}. */
  VhdExport.Parent parent(Ref<Vdi> base) throws XenApiException {
    return new VhdExport.Parent(identity(base), db.get(base, Vdi.UUID) + ".vhd");
  }

  /** The blocks of {@code device} (the activated {@code vdi}) that differ from {@code base}. */
  Delta delta(Ref<Vdi> vdi, VdiDevice device, Ref<Vdi> base, LongConsumer progress)
      throws XenApiException, SmException, TransferException {
    long baseSize = db.get(base, Vdi.VIRTUAL_SIZE);
    if (baseSize != device.sizeBytes()) {
      throw TransferException.badInput(
          "base has "
              + baseSize
              + " bytes, the VDI "
              + device.sizeBytes()
              + ": not a snapshot of it");
    }
    boolean dataGone = db.get(base, Vdi.TYPE) == VdiType.CBT_METADATA;
    if (cbt.tracksBoth(base, vdi)) {
      try {
        org.xsm.api.ChangedBlocks cb = cbt.changedBlocks(base, vdi);
        return new Delta(
            DeltaBlocks.fromCbt(cb, device.sizeBytes()), Source.CBT, DeltaBlocks.Granules.of(cb));
      } catch (XenApiException e) {
        if (dataGone) {
          throw e;
        }
        LOG.warnf(e, "CBT has no changes from %s to %s; comparing the disks instead", base, vdi);
      }
    }
    if (dataGone) {
      throw TransferException.badInput(
          "base " + base + " has no data (VDI.data_destroy) and CBT cannot say what changed");
    }
    try (var b = storage.readShared(base)) {
      return new Delta(
          DeltaBlocks.differing(device, b.device(), DeltaBlocks.allocated(device), progress),
          Source.COMPARISON,
          null);
    }
  }
}
