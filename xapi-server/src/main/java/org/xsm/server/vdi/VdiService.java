package org.xsm.server.vdi;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleConsumer;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
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
import org.xsm.server.sr.SrService;
import org.xsm.server.sr.VdiRecords;

/**
 * VDI behaviour: create, destroy, copy, resize, rename, and the reads and writes of whole small
 * VDIs (memory images). Snapshot and clone are in {@link VdiSnapshots}.
 */
@ApplicationScoped
public class VdiService {
  @Inject Database db;
  @Inject SrService srs;

  /**
   * What VDI.create is told about the new VDI.
   *
   * @param smConfig the caller's {@code sm_config}, passed to the plugin (which may read {@code
   *     image-format} from it)
   */
  public record VdiSpec(
      Ref<Sr> sr,
      long virtualSize,
      String nameLabel,
      String nameDescription,
      VdiType type,
      boolean sharable,
      Map<String, String> otherConfig,
      Map<String, String> xenstoreData,
      List<String> tags,
      Map<String, String> smConfig) {

    /** A spec with no {@code sm_config}. */
    public VdiSpec(
        Ref<Sr> sr,
        long virtualSize,
        String nameLabel,
        String nameDescription,
        VdiType type,
        boolean sharable,
        Map<String, String> otherConfig,
        Map<String, String> xenstoreData,
        List<String> tags) {
      this(
          sr,
          virtualSize,
          nameLabel,
          nameDescription,
          type,
          sharable,
          otherConfig,
          xenstoreData,
          tags,
          Map.of());
    }
  }

  /** VDI.create: the plugin makes the VDI; its record is made from what the plugin reports. */
  public Ref<Vdi> create(VdiSpec s) throws XenApiException {
    if (!db.exists(Sr.CLASS, s.sr())) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "SR", s.sr().value());
    }
    VdiMetadata meta =
        new VdiMetadata(s.nameLabel(), s.nameDescription(), s.type().wire(), false, null, null);
    org.xsm.api.Sr sr = srs.plugin(s.sr());
    VdiInfo v =
        srs.sm("vdi_create", s.sr(), () -> sr.createVdi(s.virtualSize(), meta, s.smConfig()));
    Ref<Vdi> ref = srs.introduce(s.sr(), v);
    Values<Vdi> extra =
        Values.of(Vdi.CLASS)
            .with(Vdi.SHARABLE, s.sharable())
            .with(Vdi.OTHER_CONFIG, s.otherConfig())
            .with(Vdi.XENSTORE_DATA, s.xenstoreData());
    if (s.tags() != null) {
      extra.with(Vdi.TAGS, s.tags());
    }
    db.update(Vdi.CLASS, ref, extra);
    return ref;
  }

  /** A new VDI of {@code type} holding exactly {@code data} (padded with zeros). */
  public Ref<Vdi> createWith(Ref<Sr> sr, String name, VdiType type, byte[] data)
      throws XenApiException {
    Ref<Vdi> vdi =
        create(new VdiSpec(sr, data.length, name, "", type, false, Map.of(), Map.of(), null));
    VdiDevice d = srs.activate(vdi, true);
    try {
      srs.smRun(
          "vdi_write",
          vdi,
          () -> {
            d.write(ByteBuffer.wrap(data), 0);
            d.flush();
          });
    } finally {
      srs.deactivate(vdi);
    }
    return vdi;
  }

  /** The first {@code length} bytes of a VDI. */
  public byte[] read(Ref<Vdi> vdi, int length) throws XenApiException {
    try (var lease = srs.readShared(vdi)) {
      VdiDevice d = lease.device();
      ByteBuffer b = ByteBuffer.allocate(length);
      srs.smRun("vdi_read", vdi, () -> d.read(b, 0));
      return b.array();
    }
  }

  /** VDI.destroy: the plugin deletes the data, then the record and its VBDs go. */
  public void destroy(Ref<Vdi> vdi) throws XenApiException {
    List<Ref<Vbd>> vbds = db.get(vdi, Vdi.VBDS);
    for (Ref<Vbd> vbd : vbds) {
      if (db.get(vbd, Vbd.CURRENTLY_ATTACHED)) {
        throw new XenApiException(XenApiError.VDI_IN_USE, vdi.value(), "destroy");
      }
    }
    Ref<Sr> srRef = db.get(vdi, Vdi.SR);
    org.xsm.api.Sr sr = srs.plugin(srRef);
    String loc = db.get(vdi, Vdi.LOCATION);
    srs.smRun("vdi_delete", vdi, () -> sr.deleteVdi(loc));
    for (Ref<Vbd> vbd : vbds) {
      db.destroy(Vbd.CLASS, vbd);
    }
    db.destroy(Vdi.CLASS, vdi);
  }

  /** Destroys a VDI while undoing a failed operation; a failure is logged, not thrown. */
  public void destroyQuietly(Ref<Vdi> vdi) {
    try {
      destroy(vdi);
    } catch (XenApiException e) {
      org.jboss.logging.Logger.getLogger(VdiService.class)
          .warnf(e, "undo: VDI %s could not be destroyed; the next scan shows it", vdi);
    }
  }

  /** VDI.forget: the record goes, the data stays (a scan brings it back). */
  public void forget(Ref<Vdi> vdi) throws XenApiException {
    db.destroy(Vdi.CLASS, vdi);
  }

  /**
   * VDI.copy(vdi, sr): a new VDI in {@code sr} with the same content, holes skipped.
   *
   * @param progress told the fraction of allocated blocks copied so far, from 0 to 1
   */
  public Ref<Vdi> copy(Ref<Vdi> vdi, Ref<Sr> targetSr, DoubleConsumer progress)
      throws XenApiException {
    Row<Vdi> src = db.read(Vdi.CLASS, vdi);
    Ref<Vdi> dst =
        create(
            new VdiSpec(
                targetSr,
                src.get(Vdi.VIRTUAL_SIZE),
                src.get(Vdi.NAME_LABEL),
                src.get(Vdi.NAME_DESCRIPTION),
                src.get(Vdi.TYPE),
                false,
                src.get(Vdi.OTHER_CONFIG),
                Map.of(),
                null));
    // A copy that fails (the source in use, an SR out of space) leaves no half-made VDI behind
    // (found by the soak: refused copies had left theirs).
    try (var lease = srs.readShared(vdi)) {
      VdiDevice in = lease.device();
      VdiDevice out = srs.activate(dst, true);
      try {
        srs.smRun("vdi_copy", vdi, () -> BlockCopy.copy(in, out, progress));
      } finally {
        srs.deactivate(dst);
      }
    } catch (XenApiException | RuntimeException e) {
      destroyQuietly(dst);
      throw e;
    }
    return dst;
  }

  /** VDI.resize: the plugin grows it; the record takes the new figures. */
  public void resize(Ref<Vdi> vdi, long size) throws XenApiException {
    org.xsm.api.Sr sr = srs.plugin(db.get(vdi, Vdi.SR));
    String loc = db.get(vdi, Vdi.LOCATION);
    VdiInfo v = srs.sm("vdi_resize", vdi, () -> sr.resize(loc, size));
    db.update(Vdi.CLASS, vdi, VdiRecords.fromPlugin(v));
  }

  /**
   * VDI.set_name_label / set_name_description: the record changes, and so does the metadata the SR
   * keeps for the VDI, so a scan after the database is lost still knows the new name.
   */
  public void rename(Ref<Vdi> vdi, String label, String description) throws XenApiException {
    Values<Vdi> v = Values.of(Vdi.CLASS);
    if (label != null) {
      v.with(Vdi.NAME_LABEL, label);
    }
    if (description != null) {
      v.with(Vdi.NAME_DESCRIPTION, description);
    }
    if (!db.update(Vdi.CLASS, vdi, v)) {
      return;
    }
    storeMetadata(vdi);
  }

  /** Writes a VDI record's metadata (name, type, snapshot links) to its SR. */
  public void storeMetadata(Ref<Vdi> vdi) throws XenApiException {
    Row<Vdi> r = db.read(Vdi.CLASS, vdi);
    if (!r.get(Vdi.MANAGED)) {
      return; // base copies keep no metadata of their own
    }
    Ref<Vdi> of = r.get(Vdi.SNAPSHOT_OF);
    String ofLocation = db.exists(Vdi.CLASS, of) ? db.get(of, Vdi.LOCATION) : null;
    VdiMetadata meta = VdiRecords.metadataOf(r, ofLocation);
    org.xsm.api.Sr sr = srs.plugin(r.get(Vdi.SR));
    String loc = r.get(Vdi.LOCATION);
    srs.smRun("vdi_update", vdi, () -> sr.updateVdi(loc, meta));
  }

  /** The snapshot time of a new snapshot: now, to the second (as xapi records it). */
  static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS);
  }
}
