package org.xsm.server.vdi;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.function.LongConsumer;
import org.xsm.api.SnapshotKind;
import org.xsm.api.SnapshotRequest;
import org.xsm.api.TreeChange;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiException;
import org.xsm.server.nbd.IoHold;
import org.xsm.server.nbd.NbdService;
import org.xsm.server.sr.SrService;

/**
 * VDI.snapshot and VDI.clone, one VDI or several at once (a VM's disks): the plugin makes the data,
 * then each new record is linked as xapi does (snapshot_of, snapshot_time, the source's
 * configuration), and the VDIs the plugin reports changed beside it (a new base copy, the leaf's
 * figures) are applied to the database by location: no scan of the SR, so the cost is that of the
 * VDIs involved, whatever the size of the SR.
 *
 * <p>Snapshots of several VDIs of one SR are one plugin call ({@code Sr.snapshotAll}: on a VHD-tree
 * SR one op log and shared directory syncs, all or nothing across a crash). Clones have no batch
 * call in the SPI and are made one by one. Either way a failure destroys what was made.
 */
@ApplicationScoped
public class VdiSnapshots {
  @Inject Database db;
  @Inject SrService srs;
  @Inject VdiService vdis;
  @Inject NbdService nbd;

  /** VDI.snapshot. */
  public Ref<Vdi> snapshot(Ref<Vdi> vdi) throws XenApiException {
    return snapshotAll(List.of(vdi), false).get(vdi);
  }

  /** VDI.clone. */
  public Ref<Vdi> cloneVdi(Ref<Vdi> vdi) throws XenApiException {
    return snapshotAll(List.of(vdi), true).get(vdi);
  }

  /**
   * Snapshots (or clones) every VDI given; all or nothing: when one fails, those already made are
   * destroyed again and the failure is thrown.
   *
   * @return each source VDI to its new snapshot (or clone), in the order given
   */
  public Map<Ref<Vdi>, Ref<Vdi>> snapshotAll(List<Ref<Vdi>> sources, boolean clone)
      throws XenApiException {
    return snapshotAll(sources, clone, held -> {});
  }

  /**
   * {@link #snapshotAll(List, boolean)}, telling {@code heldNanos} how long a running domain's I/O
   * on these disks was held for the switch (the longest hold of the SRs' batches), if it was.
   */
  public Map<Ref<Vdi>, Ref<Vdi>> snapshotAll(
      List<Ref<Vdi>> sources, boolean clone, LongConsumer heldNanos) throws XenApiException {
    Instant now = VdiService.now();
    Map<Ref<Sr>, List<Row<Vdi>>> bySr = new LinkedHashMap<>();
    for (Ref<Vdi> vdi : sources) {
      Row<Vdi> src = db.read(Vdi.CLASS, vdi);
      bySr.computeIfAbsent(src.get(Vdi.SR), k -> new ArrayList<>()).add(src);
    }
    Map<Ref<Vdi>, Ref<Vdi>> made = new LinkedHashMap<>();
    LongAccumulator held = new LongAccumulator(Math::max, -1);
    try {
      for (Map.Entry<Ref<Sr>, List<Row<Vdi>>> e : bySr.entrySet()) {
        Ref<Sr> srRef = e.getKey();
        List<Row<Vdi>> rows = e.getValue();
        List<TreeChange> changes =
            clone ? cloneEach(srRef, rows, now) : snapshotBatch(srRef, rows, now, held);
        List<VdiInfo> changed = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
          Row<Vdi> src = rows.get(i);
          Ref<Vdi> ref = srs.introduce(srRef, changes.get(i).vdi());
          made.put(src.ref(), link(src, ref, clone, now));
          changed.addAll(changes.get(i).changed());
        }
        srs.reconcile(srRef, changed); // base copies appear, the leaves' figures update
      }
    } catch (XenApiException e) {
      for (Ref<Vdi> m : made.values()) {
        vdis.destroyQuietly(m);
      }
      throw e;
    }
    if (held.get() >= 0) {
      heldNanos.accept(held.get());
    }
    Map<Ref<Vdi>, Ref<Vdi>> ordered = new LinkedHashMap<>();
    for (Ref<Vdi> vdi : sources) {
      ordered.put(vdi, made.get(vdi));
    }
    return ordered;
  }

  /**
   * One plugin call for the SR's VDIs. A running domain's I/O on them is held around it (flushed
   * first, new requests waiting, released as the call returns: {@code IoHold}), so the snapshot is
   * one point of the guest's writes while the plugin pauses the devices for the switch.
   */
  private List<TreeChange> snapshotBatch(
      Ref<Sr> srRef, List<Row<Vdi>> rows, Instant now, LongAccumulator held)
      throws XenApiException {
    org.xsm.api.Sr sr = srs.plugin(srRef);
    List<SnapshotRequest> requests = new ArrayList<>();
    for (Row<Vdi> src : rows) {
      requests.add(
          new SnapshotRequest(
              src.get(Vdi.LOCATION), SnapshotKind.DOUBLE, metadata(src, false, now)));
    }
    List<String> refs = rows.stream().map(r -> r.ref().value()).toList();
    IoHold hold = nbd.holdLocal(refs, "snapshot of VDI " + rows.get(0).get(Vdi.UUID));
    try (hold) {
      return srs.sm(
          rows.size() == 1 ? "vdi_snapshot" : "vdi_snapshot_batch",
          rows.get(0).ref(),
          () -> sr.snapshotAll(requests));
    } finally {
      if (hold.holdsAny()) {
        held.accumulate(hold.heldNanos());
      }
    }
  }

  private List<TreeChange> cloneEach(Ref<Sr> srRef, List<Row<Vdi>> rows, Instant now)
      throws XenApiException {
    org.xsm.api.Sr sr = srs.plugin(srRef);
    List<TreeChange> out = new ArrayList<>();
    try {
      for (Row<Vdi> src : rows) {
        String loc = src.get(Vdi.LOCATION);
        VdiMetadata meta = metadata(src, true, now);
        out.add(srs.sm("vdi_clone", src.ref(), () -> sr.cloneChange(loc, meta)));
      }
    } catch (XenApiException e) {
      for (TreeChange c : out) {
        String loc = c.vdi().location();
        try {
          srs.smRun("vdi_delete", srRef, () -> sr.deleteVdi(loc));
        } catch (XenApiException undo) {
          e.addSuppressed(undo);
        }
      }
      throw e;
    }
    return out;
  }

  private static VdiMetadata metadata(Row<Vdi> src, boolean clone, Instant now) {
    return new VdiMetadata(
        src.get(Vdi.NAME_LABEL),
        src.get(Vdi.NAME_DESCRIPTION),
        src.get(Vdi.TYPE).wire(),
        !clone,
        clone ? null : src.get(Vdi.LOCATION),
        clone ? null : now);
  }

  /** The new record takes the source's configuration and, for a snapshot, its links. */
  private Ref<Vdi> link(Row<Vdi> src, Ref<Vdi> made, boolean clone, Instant now)
      throws XenApiException {
    Values<Vdi> f =
        Values.of(Vdi.CLASS)
            .with(Vdi.SHARABLE, src.get(Vdi.SHARABLE))
            .with(Vdi.OTHER_CONFIG, src.get(Vdi.OTHER_CONFIG))
            .with(Vdi.XENSTORE_DATA, src.get(Vdi.XENSTORE_DATA))
            .with(Vdi.ON_BOOT, src.get(Vdi.ON_BOOT))
            .with(Vdi.ALLOW_CACHING, src.get(Vdi.ALLOW_CACHING))
            .with(Vdi.TAGS, src.get(Vdi.TAGS));
    if (!clone) {
      f.with(Vdi.IS_A_SNAPSHOT, true).with(Vdi.SNAPSHOT_OF, src.ref()).with(Vdi.SNAPSHOT_TIME, now);
    }
    db.update(Vdi.CLASS, made, f);
    return made;
  }
}
