package org.xsm.server.migrate;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.function.DoubleConsumer;
import org.jboss.logging.Logger;
import org.xsm.api.VdiDevice;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.nbd.NbdService;
import org.xsm.server.sr.SrService;
import org.xsm.server.transfer.DeltaBlocks;
import org.xsm.server.vdi.CbtService;
import org.xsm.server.vdi.VdiService;
import org.xsm.server.vdi.VdiSnapshots;

/**
 * Moves a VDI, with its snapshots, to another SR, while its VM runs ({@code VDI.pool_migrate},
 * {@code VM.migrate_send} with a VDI map), as xapi's storage migration does, and better on two
 * points: the snapshots keep their tree (and their {@code snapshot_of}, now the new VDI), and CBT
 * stays on, so the next backup is still a delta.
 *
 * <p>How: a new VDI on the destination is built snapshot by snapshot, oldest first (each one's
 * blocks that differ from the previous written, then a snapshot of it taken, with the original's
 * name, time and VBDs), so the destination shares data between snapshots as the source did. If the
 * VDI is in use, its exports then serve a {@link MirrorDevice} (every write to both) while the
 * blocks that differ from the last snapshot are copied; at the switch, under the guest's I/O hold,
 * the exports serve the destination alone and the VBDs point at the new VDI. The old VDI and its
 * snapshots are then destroyed.
 *
 * <p>Crash safety: until the switch the source is untouched and complete; a crash leaves a partial
 * destination VDI (and snapshots of it) which are ordinary VDIs of the destination SR, visible to
 * the user and removable; the switch changes the records in one call, whose flush precedes the
 * answer. After it, the old VDIs' destruction is the same as VDI.destroy's.
 */
@ApplicationScoped
public class StorageMigration {
  private static final Logger LOG = Logger.getLogger(StorageMigration.class);
  private static final int BLOCK = DeltaBlocks.BLOCK_BYTES;

  @Inject Database db;
  @Inject SrService srs;
  @Inject VdiService vdis;
  @Inject VdiSnapshots snapshots;
  @Inject CbtService cbt;
  @Inject NbdService nbd;
  @Inject org.xsm.server.host.HostService hosts;

  /** What a move did: the new VDI, and how long guest I/O was held at the switch. */
  public record Moved(Ref<Vdi> vdi, long heldNanos) {}

  /**
   * The mirror runs where the guest's writes arrive, this host's NBD exports: a disk attached for a
   * VM running on another host of the pool cannot be moved yet (its writes would miss the copy).
   */
  private void assertNotInUseElsewhere(Row<Vdi> src) throws XenApiException {
    for (Ref<org.xsm.server.model.Vbd> vbd : src.get(Vdi.VBDS)) {
      Row<org.xsm.server.model.Vbd> b = db.readOrNull(org.xsm.server.model.Vbd.CLASS, vbd);
      if (b == null || !b.get(org.xsm.server.model.Vbd.CURRENTLY_ATTACHED)) {
        continue;
      }
      Ref<org.xsm.server.model.Vm> vm = b.get(org.xsm.server.model.Vbd.VM);
      Ref<org.xsm.server.model.Host> on = db.get(vm, org.xsm.server.model.Vm.RESIDENT_ON);
      if (!on.isNull()
          && !on.equals(hosts.host())
          && db.exists(org.xsm.server.model.Host.CLASS, on)) {
        throw new XenApiException(
            XenApiError.OPERATION_NOT_ALLOWED,
            "VDI "
                + src.get(Vdi.UUID)
                + " is in use by a VM running on host "
                + db.get(on, org.xsm.server.model.Host.ADDRESS)
                + ": a disk is moved between SRs only on the pool's master (migrate the VM there"
                + " first)");
      }
    }
  }

  /** Moves {@code vdi} (and its snapshots) to {@code dest}; the new VDI. */
  public Moved move(Ref<Vdi> vdi, Ref<Sr> dest, DoubleConsumer progress) throws XenApiException {
    Row<Vdi> src = db.read(Vdi.CLASS, vdi);
    db.read(Sr.CLASS, dest);
    if (src.get(Vdi.IS_A_SNAPSHOT)) {
      throw new XenApiException(
          XenApiError.OPERATION_NOT_ALLOWED,
          "VDI " + src.get(Vdi.UUID) + " is a snapshot: snapshots move with the VDI they are of");
    }
    if (src.get(Vdi.SR).equals(dest)) {
      return new Moved(vdi, 0); // already there: nothing to move, as xapi
    }
    if (src.get(Vdi.TYPE) == VdiType.CBT_METADATA) {
      throw new XenApiException(
          XenApiError.VDI_INCOMPATIBLE_TYPE, vdi.value(), src.get(Vdi.TYPE).wire());
    }
    assertNotInUseElsewhere(src);
    List<Ref<Vdi>> snaps = snapshotsOf(vdi);
    Ref<Vdi> moved = vdis.create(specLike(src, dest));
    try {
      if (src.get(Vdi.CBT_ENABLED)) {
        try {
          cbt.setCbt(moved, true); // from the first write on: the new tree's changes are tracked
        } catch (XenApiException e) {
          if (!e.code().equals("SR_OPERATION_NOT_SUPPORTED")) {
            throw e;
          }
          // A destination without CBT (a driver that does not track changes): the move goes on, as
          // xapi's does, without it.
          LOG.warnf(
              "VDI %s moves to SR %s, which has no changed block tracking: CBT is off after it",
              src.get(Vdi.UUID), db.get(dest, Sr.UUID));
        }
      }
      List<Ref<Vdi>> newSnaps = new ArrayList<>();
      Ref<Vdi> previous = null;
      int step = 0;
      int steps = snaps.size() + 1;
      for (Ref<Vdi> s : snaps) {
        int base = step++;
        copyDifferences(s, previous, moved, f -> progress.accept((base + f) / steps));
        newSnaps.add(snapshotLike(moved, s));
        previous = s;
      }
      int base = step;
      long held = finish(vdi, previous, moved, f -> progress.accept((base + f) / steps));
      // The switch is done: the snapshots' VBDs (VM snapshots' disks) point at the new ones.
      for (int i = 0; i < snaps.size(); i++) {
        for (Ref<Vbd> vbd : db.get(snaps.get(i), Vdi.VBDS)) {
          db.set(vbd, Vbd.VDI, newSnaps.get(i));
        }
      }
      for (Ref<Vdi> s : snaps) {
        vdis.destroy(s);
      }
      vdis.destroy(vdi);
      progress.accept(1);
      LOG.infof(
          "VDI %s moved to SR %s as %s with %d snapshot(s); guest I/O held %.3f ms",
          src.get(Vdi.UUID),
          db.get(dest, Sr.UUID),
          db.get(moved, Vdi.UUID),
          snaps.size(),
          held / 1e6);
      return new Moved(moved, held);
    } catch (XenApiException | RuntimeException e) {
      if (db.exists(Vdi.CLASS, vdi)
          && db.get(vdi, Vdi.VBDS).stream().noneMatch(b -> pointsAt(b, moved))) {
        undo(moved); // before the switch: the source is whole, the partial copy goes
      }
      throw e;
    }
  }

  private boolean pointsAt(Ref<Vbd> vbd, Ref<Vdi> vdi) {
    Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
    return b != null && b.get(Vbd.VDI).equals(vdi);
  }

  private void undo(Ref<Vdi> moved) {
    try {
      for (Ref<Vdi> s : snapshotsOf(moved)) {
        vdis.destroyQuietly(s);
      }
      vdis.destroyQuietly(moved);
    } catch (RuntimeException e) {
      LOG.warnf(e, "partial copy %s of a failed move not removed", moved);
    }
  }

  /** A VDI's snapshots with data (not CBT-only ones), oldest first. */
  private List<Ref<Vdi>> snapshotsOf(Ref<Vdi> vdi) {
    List<Ref<Vdi>> out = new ArrayList<>();
    try {
      for (Ref<Vdi> s : db.get(vdi, Vdi.SNAPSHOTS)) {
        if (db.get(s, Vdi.TYPE) != VdiType.CBT_METADATA) {
          out.add(s);
        }
      }
      out.sort(Comparator.comparing(s -> snapshotTime(s)));
    } catch (XenApiException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  private java.time.Instant snapshotTime(Ref<Vdi> s) {
    try {
      return db.get(s, Vdi.SNAPSHOT_TIME);
    } catch (XenApiException e) {
      return java.time.Instant.EPOCH;
    }
  }

  private static VdiService.VdiSpec specLike(Row<Vdi> src, Ref<Sr> dest) {
    return new VdiService.VdiSpec(
        dest,
        src.get(Vdi.VIRTUAL_SIZE),
        src.get(Vdi.NAME_LABEL),
        src.get(Vdi.NAME_DESCRIPTION),
        src.get(Vdi.TYPE),
        src.get(Vdi.SHARABLE),
        src.get(Vdi.OTHER_CONFIG),
        src.get(Vdi.XENSTORE_DATA),
        src.get(Vdi.TAGS),
        java.util.Map.of());
  }

  /** Writes into {@code target} the blocks of {@code snap} that differ from {@code previous}. */
  private void copyDifferences(
      Ref<Vdi> snap, Ref<Vdi> previous, Ref<Vdi> target, DoubleConsumer progress)
      throws XenApiException {
    VdiDevice out = srs.activate(target, true);
    try (var in = srs.readShared(snap)) {
      copyBlocks(in.device(), out, blocksToCopy(snap, in.device(), previous), progress);
    } finally {
      srs.deactivate(target);
    }
  }

  /**
   * The 2 MiB blocks of {@code vdi} (read through {@code device}) to copy: those that differ from
   * {@code previous} (its snapshot already copied), or every allocated one when there is none.
   */
  private BitSet blocksToCopy(Ref<Vdi> vdi, VdiDevice device, Ref<Vdi> previous)
      throws XenApiException {
    if (previous == null) {
      return srs.sm("vdi_read", vdi, () -> DeltaBlocks.allocated(device));
    }
    try (var before = srs.readShared(previous)) {
      return srs.sm(
          "vdi_read",
          vdi,
          () ->
              DeltaBlocks.differing(
                  device, before.device(), DeltaBlocks.allocated(device), n -> {}));
    }
  }

  private void copyBlocks(VdiDevice in, VdiDevice out, BitSet blocks, DoubleConsumer progress)
      throws XenApiException {
    ByteBuffer buf = ByteBuffer.allocateDirect(BLOCK);
    int total = Math.max(1, blocks.cardinality());
    int[] done = {0};
    srs.smRun(
        "vdi_copy",
        null,
        () -> {
          for (int b = blocks.nextSetBit(0); b >= 0; b = blocks.nextSetBit(b + 1)) {
            long off = (long) b * BLOCK;
            int len = (int) Math.min(BLOCK, in.sizeBytes() - off);
            buf.clear().limit(len);
            in.read(buf, off);
            buf.flip();
            out.write(buf, off);
            progress.accept((double) ++done[0] / total);
          }
          out.flush();
        });
  }

  /** A snapshot of {@code target} standing for {@code original}: its name and time. */
  private Ref<Vdi> snapshotLike(Ref<Vdi> target, Ref<Vdi> original) throws XenApiException {
    Ref<Vdi> s = snapshots.snapshot(target);
    Row<Vdi> o = db.read(Vdi.CLASS, original);
    db.update(
        Vdi.CLASS,
        s,
        Values.of(Vdi.CLASS)
            .with(Vdi.NAME_LABEL, o.get(Vdi.NAME_LABEL))
            .with(Vdi.NAME_DESCRIPTION, o.get(Vdi.NAME_DESCRIPTION))
            .with(Vdi.SNAPSHOT_TIME, o.get(Vdi.SNAPSHOT_TIME))
            .with(Vdi.OTHER_CONFIG, o.get(Vdi.OTHER_CONFIG)));
    return s;
  }

  /**
   * The VDI's own blocks (those differing from its last snapshot): copied plainly if nothing uses
   * the VDI, else through a mirror while the guest writes on, then the switch. Returns how long
   * guest I/O was held.
   */
  private long finish(Ref<Vdi> vdi, Ref<Vdi> lastSnap, Ref<Vdi> moved, DoubleConsumer progress)
      throws XenApiException {
    boolean inUse = nbd.exportedVdis().contains(vdi.value());
    if (!inUse) {
      copyDifferences(vdi, lastSnap, moved, progress);
      repointVbds(vdi, moved);
      return 0;
    }
    VdiDevice source = nbd.deviceOf(vdi.value());
    VdiDevice dest = srs.activate(moved, true);
    boolean switched = false;
    try {
      MirrorDevice mirror = new MirrorDevice(source, dest, BLOCK);
      nbd.moveExports(vdi.value(), vdi.value(), mirror, () -> {});
      BitSet blocks = blocksToCopy(vdi, source, lastSnap);
      ByteBuffer buf = ByteBuffer.allocateDirect(BLOCK);
      int total = Math.max(1, blocks.cardinality());
      int[] done = {0};
      srs.smRun(
          "vdi_copy",
          vdi,
          () -> {
            for (int b = blocks.nextSetBit(0); b >= 0; b = blocks.nextSetBit(b + 1)) {
              mirror.copy(b, buf);
              progress.accept((double) ++done[0] / total);
            }
            dest.flush();
          });
      long held =
          nbd.moveExports(
              vdi.value(),
              moved.value(),
              dest,
              () -> {
                srs.smRun("vdi_flush", moved, dest::flush);
                repointVbds(vdi, moved);
              });
      switched = true;
      srs.deactivate(vdi); // nothing serves the old device any more
      return held;
    } finally {
      if (!switched) {
        // Back to the source alone (if the mirror was installed), and the destination let go.
        try {
          nbd.moveExports(vdi.value(), vdi.value(), source, () -> {});
        } finally {
          srs.deactivate(moved);
        }
      }
    }
  }

  /** The VBDs of {@code from} (a running VM's disk among them) now use {@code to}. */
  private void repointVbds(Ref<Vdi> from, Ref<Vdi> to) throws XenApiException {
    for (Ref<Vbd> vbd : db.get(from, Vdi.VBDS)) {
      db.set(vbd, Vbd.VDI, to);
    }
  }
}
