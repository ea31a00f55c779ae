package org.xsm.server.sr;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vdi;

/** VDI record fields from what a plugin reports, and the metadata a plugin keeps for a record. */
public final class VdiRecords {
  private VdiRecords() {}

  /** The fields a plugin is the truth for: location, sizes, flags, sm_config. */
  public static Values<Vdi> fromPlugin(VdiInfo v) {
    return Values.of(Vdi.CLASS)
        .with(Vdi.LOCATION, v.location())
        .with(Vdi.VIRTUAL_SIZE, v.virtualSizeBytes())
        .with(Vdi.PHYSICAL_UTILISATION, v.physicalUtilisationBytes())
        .with(Vdi.READ_ONLY, v.readOnly())
        .with(Vdi.MANAGED, v.managed())
        .with(Vdi.SM_CONFIG, v.smConfig())
        .with(Vdi.CBT_ENABLED, v.cbtEnabled());
  }

  /** Also the name and snapshot links the plugin keeps, for a record made from a scan. */
  static Values<Vdi> fromPluginFull(VdiInfo v, Ref<Vdi> snapshotOf) {
    Values<Vdi> f = fromPlugin(v);
    VdiMetadata m = v.metadata();
    if (m != null) {
      f.with(Vdi.NAME_LABEL, m.nameLabel())
          .with(Vdi.NAME_DESCRIPTION, m.nameDescription())
          .with(Vdi.TYPE, SrService.type(m.type()))
          .with(Vdi.IS_A_SNAPSHOT, m.isASnapshot());
      if (m.snapshotTime() != null) {
        f.with(Vdi.SNAPSHOT_TIME, m.snapshotTime());
      }
      if (snapshotOf != null) {
        f.with(Vdi.SNAPSHOT_OF, snapshotOf);
      }
    }
    return f;
  }

  /** The metadata kept on the SR for a VDI record ({@code snapshotOfLocation} may be null). */
  public static VdiMetadata metadataOf(Row<Vdi> r, String snapshotOfLocation) {
    Instant t = r.get(Vdi.SNAPSHOT_TIME);
    return new VdiMetadata(
        r.get(Vdi.NAME_LABEL),
        r.get(Vdi.NAME_DESCRIPTION),
        r.get(Vdi.TYPE).wire(),
        r.get(Vdi.IS_A_SNAPSHOT),
        snapshotOfLocation,
        Instant.EPOCH.equals(t) ? null : t.truncatedTo(ChronoUnit.SECONDS));
  }
}
