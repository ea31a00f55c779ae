package org.xsm.server.vdi;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xsm.api.SnapshotKind;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.SrService;

/**
 * VDI.snapshot and VDI.clone, one VDI or several at once (a VM's disks): the plugin makes the data,
 * then each new record is linked as xapi does (snapshot_of, snapshot_time, the source's
 * configuration), and the VDIs the plugin changed beside it (a new base copy, the leaf's figures)
 * are applied to the database.
 */
@ApplicationScoped
public class VdiSnapshots {
  @Inject Database db;
  @Inject SrService srs;
  @Inject VdiService vdis;

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
    Instant now = VdiService.now();
    Map<Ref<Vdi>, Ref<Vdi>> made = new LinkedHashMap<>();
    Set<Ref<Sr>> touched = new LinkedHashSet<>();
    try {
      for (Ref<Vdi> vdi : sources) {
        Row<Vdi> src = db.read(Vdi.CLASS, vdi);
        Ref<Sr> srRef = src.get(Vdi.SR);
        org.xsm.api.Sr sr = srs.plugin(srRef);
        String loc = src.get(Vdi.LOCATION);
        VdiMetadata meta = metadata(src, clone, now);
        VdiInfo v =
            clone
                ? srs.sm("vdi_clone", vdi, () -> sr.cloneVdi(loc, meta))
                : srs.sm("vdi_snapshot", vdi, () -> sr.snapshot(loc, SnapshotKind.DOUBLE, meta));
        made.put(vdi, link(src, srs.introduce(srRef, v), clone, now));
        touched.add(srRef);
      }
    } catch (XenApiException e) {
      for (Ref<Vdi> m : made.values()) {
        vdis.destroyQuietly(m);
      }
      throw e;
    }
    for (Ref<Sr> sr : touched) {
      srs.scan(sr); // base copies appear, figures update
    }
    return made;
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
