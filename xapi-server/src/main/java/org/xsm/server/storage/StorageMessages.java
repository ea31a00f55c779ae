package org.xsm.server.storage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.DoubleConsumer;
import org.xsm.api.ProbeResult;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.server.db.Database;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.XenApiException;

/** SR, PBD and VDI messages that reach the storage plugins. */
@ApplicationScoped
public class StorageMessages implements RpcModule {
  @Inject Database db;
  @Inject StorageService storage;
  @Inject org.xsm.server.task.Tasks tasks;

  @Override
  public void register(Dispatcher d) {
    d.register("SR.create", 10, true, true, (c, a) -> createSr(a));
    d.register(
        "SR.scan",
        2,
        true,
        true,
        (c, a) -> {
          storage.scan(Params.str(a, 0));
          return "";
        });
    d.register("SR.probe", 5, true, false, (c, a) -> probe(a));
    d.register("SR.introduce", 8, true, true, (c, a) -> introduceSr(a));
    d.register("PBD.create", 2, true, true, (c, a) -> createPbd(Params.map(a.get(0), "args")));
    d.register(
        "PBD.destroy",
        2,
        true,
        true,
        (c, a) -> {
          String pbd = Params.str(a, 0);
          if (Boolean.TRUE.equals(db.field("PBD", pbd, "currently_attached"))) {
            throw new XenApiException("OPERATION_NOT_ALLOWED", "PBD " + pbd + " is plugged");
          }
          db.destroy("PBD", pbd);
          return "";
        });
    d.register("VDI.introduce", -1, true, true, (c, a) -> introduceVdi(a));
    d.register(
        "VDI.copy",
        -1,
        true,
        true,
        (c, a) -> copyVdi(Params.str(a, 0), Params.str(a, 1), tasks.progress(c)));
    d.register(
        "SR.forget",
        2,
        true,
        true,
        (c, a) -> {
          forget(Params.str(a, 0));
          return "";
        });
    d.register(
        "SR.destroy",
        2,
        true,
        true,
        (c, a) -> {
          destroy(Params.str(a, 0));
          return "";
        });
    d.register(
        "PBD.plug",
        2,
        true,
        true,
        (c, a) -> {
          storage.plug(Params.str(a, 0));
          return "";
        });
    d.register(
        "PBD.unplug",
        2,
        true,
        true,
        (c, a) -> {
          storage.unplug(Params.str(a, 0));
          return "";
        });
    d.register("VDI.create", 2, true, true, (c, a) -> createVdi(Params.map(a.get(0), "args")));
    d.register(
        "VDI.destroy",
        2,
        true,
        true,
        (c, a) -> {
          destroyVdi(Params.str(a, 0));
          return "";
        });
    d.register(
        "VDI.forget",
        2,
        true,
        true,
        (c, a) -> {
          db.destroy("VDI", Params.str(a, 0));
          return "";
        });
    d.register("VDI.snapshot", -1, true, true, (c, a) -> snapshot(Params.str(a, 0), false));
    d.register("VDI.clone", -1, true, true, (c, a) -> snapshot(Params.str(a, 0), true));
    d.register(
        "VDI.resize",
        3,
        true,
        true,
        (c, a) -> {
          resize(Params.str(a, 0), Params.lng(a.get(1), "size"));
          return "";
        });
  }

  private String createSr(List<Object> a) throws XenApiException {
    String host = Params.str(a, 0);
    if (!db.exists("host", host)) {
      throw new XenApiException("HANDLE_INVALID", "host", host);
    }
    Map<String, String> dc = Params.stringMap(a.get(1), "device_config");
    String type = Params.str(a, 5);
    String uuid = UUID.randomUUID().toString();
    try {
      storage.driver(type).create(new SrConfig(uuid, dc), Params.lng(a.get(2), "physical_size"));
    } catch (SmException e) {
      throw SmErrors.of(e, type);
    }
    Map<String, Object> sr = new HashMap<>();
    sr.put("uuid", uuid);
    sr.put("name_label", Params.str(a, 3));
    sr.put("name_description", Params.str(a, 4));
    sr.put("type", type);
    sr.put("content_type", Params.str(a, 6));
    sr.put("shared", Params.bool(a.get(7), "shared"));
    sr.put("sm_config", Params.stringMap(a.get(8), "sm_config"));
    String srRef = db.create("SR", sr);
    Map<String, Object> pbd = new HashMap<>();
    pbd.put("host", host);
    pbd.put("SR", srRef);
    pbd.put("device_config", dc);
    String pbdRef = db.create("PBD", pbd);
    storage.plug(pbdRef);
    storage.scan(srRef);
    return srRef;
  }

  private String introduceSr(List<Object> a) throws XenApiException {
    Map<String, Object> sr = new HashMap<>();
    sr.put("uuid", Params.str(a, 0));
    sr.put("name_label", Params.str(a, 1));
    sr.put("name_description", Params.str(a, 2));
    sr.put("type", Params.str(a, 3));
    sr.put("content_type", Params.str(a, 4));
    sr.put("shared", Params.bool(a.get(5), "shared"));
    sr.put("sm_config", Params.stringMap(a.get(6), "sm_config"));
    storage.driver(Params.str(a, 3));
    return db.create("SR", sr);
  }

  private String createPbd(Map<String, Object> r) throws XenApiException {
    String host = String.valueOf(r.get("host"));
    String sr = String.valueOf(r.get("SR"));
    if (!db.exists("host", host)) {
      throw new XenApiException("HANDLE_INVALID", "host", host);
    }
    if (!db.exists("SR", sr)) {
      throw new XenApiException("HANDLE_INVALID", "SR", sr);
    }
    Map<String, Object> pbd = new HashMap<>();
    pbd.put("host", host);
    pbd.put("SR", sr);
    pbd.put("device_config", Params.stringMap(r.get("device_config"), "device_config"));
    pbd.put("other_config", Params.stringMap(r.get("other_config"), "other_config"));
    return db.create("PBD", pbd);
  }

  /** VDI.introduce(session, uuid, name, description, SR, ..., location, ...): by location. */
  private String introduceVdi(List<Object> a) throws XenApiException {
    if (a.size() < 10) {
      throw new XenApiException(
          "MESSAGE_PARAMETER_COUNT_MISMATCH", "VDI.introduce", "19", String.valueOf(a.size() + 1));
    }
    String srRef = Params.str(a, 3);
    String location = Params.str(a, 9);
    storage.scan(srRef);
    List<String> found =
        db.find("VDI", f -> srRef.equals(f.get("SR")) && location.equals(f.get("location")));
    if (found.isEmpty()) {
      throw new XenApiException("VDI_MISSING", srRef, location);
    }
    Map<String, Object> f = new HashMap<>();
    f.put("name_label", Params.str(a, 1));
    f.put("name_description", Params.str(a, 2));
    db.set("VDI", found.get(0), f);
    return found.get(0);
  }

  /**
   * VDI.copy(session, vdi, sr): a new VDI in {@code sr} with the same content, holes skipped.
   *
   * @param progress told the fraction of allocated blocks copied so far, from 0 to 1
   */
  public String copyVdi(String vdi, String targetSr, DoubleConsumer progress)
      throws XenApiException {
    Map<String, Object> src = db.record("VDI", vdi);
    Map<String, Object> args = new HashMap<>();
    args.put("SR", targetSr);
    args.put("virtual_size", src.get("virtual_size"));
    args.put("name_label", src.get("name_label"));
    args.put("name_description", src.get("name_description"));
    args.put("type", src.get("type"));
    args.put("other_config", src.get("other_config"));
    String dst = createVdi(args);
    org.xsm.api.VdiDevice in = storage.activate(vdi, false);
    try {
      org.xsm.api.VdiDevice out = storage.activate(dst, true);
      try {
        storage.sm(
            "vdi_copy",
            vdi,
            () -> {
              copyData(in, out, progress);
              return null;
            });
      } finally {
        storage.deactivate(dst);
      }
    } finally {
      storage.deactivate(vdi);
    }
    return dst;
  }

  private static void copyData(
      org.xsm.api.VdiDevice in, org.xsm.api.VdiDevice out, DoubleConsumer progress)
      throws SmException {
    int g = in.allocationBlockSizeBytes();
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(g);
    java.util.BitSet blocks = in.allocatedBlocks();
    int total = Math.max(1, blocks.cardinality());
    int copied = 0;
    for (int b = blocks.nextSetBit(0); b >= 0; b = blocks.nextSetBit(b + 1)) {
      progress.accept((double) copied++ / total);
      long off = (long) b * g;
      int len = (int) Math.min(g, in.sizeBytes() - off);
      if (len <= 0) {
        break;
      }
      buf.clear().limit(len);
      in.read(buf, off);
      buf.flip();
      out.write(buf, off);
    }
    out.flush();
  }

  private String probe(List<Object> a) throws XenApiException {
    Map<String, String> dc = Params.stringMap(a.get(1), "device_config");
    String type = Params.str(a, 2);
    List<ProbeResult> found;
    try {
      found = storage.driver(type).probe(dc);
    } catch (SmException e) {
      throw SmErrors.of(e, type);
    }
    StringBuilder x = new StringBuilder("<?xml version=\"1.0\" ?><SRlist>");
    for (ProbeResult p : found) {
      x.append("<SR><UUID>").append(p.srUuid()).append("</UUID></SR>");
    }
    return x.append("</SRlist>").toString();
  }

  private void forget(String srRef) throws XenApiException {
    for (String pbd : db.find("PBD", f -> srRef.equals(f.get("SR")))) {
      storage.unplug(pbd);
      db.destroy("PBD", pbd);
    }
    for (String vdi : db.find("VDI", f -> srRef.equals(f.get("SR")))) {
      db.destroy("VDI", vdi);
    }
    db.destroy("SR", srRef);
  }

  private void destroy(String srRef) throws XenApiException {
    List<String> pbds = db.find("PBD", f -> srRef.equals(f.get("SR")));
    if (pbds.isEmpty()) {
      throw new XenApiException("SR_HAS_NO_PBDS", srRef);
    }
    Map<String, String> dc = Params.stringMap(db.field("PBD", pbds.get(0), "device_config"), "dc");
    String type = (String) db.field("SR", srRef, "type");
    String uuid = (String) db.field("SR", srRef, "uuid");
    for (String pbd : pbds) {
      storage.unplug(pbd);
    }
    try {
      storage.driver(type).delete(new SrConfig(uuid, dc));
    } catch (SmException e) {
      storage.plug(pbds.get(0));
      throw SmErrors.of(e, srRef);
    }
    forget(srRef);
  }

  /** A new VDI of {@code type} holding exactly {@code data} (padded with zeros). */
  public String createVdiWith(String srRef, String name, String type, byte[] data)
      throws XenApiException {
    Map<String, Object> args = new HashMap<>();
    args.put("SR", srRef);
    args.put("virtual_size", (long) data.length);
    args.put("name_label", name);
    args.put("type", type);
    String vdi = createVdi(args);
    org.xsm.api.VdiDevice d = storage.activate(vdi, true);
    try {
      storage.sm(
          "vdi_write",
          vdi,
          () -> {
            d.write(java.nio.ByteBuffer.wrap(data), 0);
            d.flush();
            return null;
          });
    } finally {
      storage.deactivate(vdi);
    }
    return vdi;
  }

  /** The first {@code length} bytes of a VDI. */
  public byte[] readVdi(String vdi, int length) throws XenApiException {
    org.xsm.api.VdiDevice d = storage.activate(vdi, false);
    try {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(length);
      storage.sm(
          "vdi_read",
          vdi,
          () -> {
            d.read(b, 0);
            return null;
          });
      return b.array();
    } finally {
      storage.deactivate(vdi);
    }
  }

  private String createVdi(Map<String, Object> r) throws XenApiException {
    String srRef = String.valueOf(r.get("SR"));
    if (!db.exists("SR", srRef)) {
      throw new XenApiException("HANDLE_INVALID", "SR", srRef);
    }
    long size = Params.lng(r.get("virtual_size"), "virtual_size");
    String type = r.get("type") == null ? "user" : String.valueOf(r.get("type"));
    VdiMetadata meta =
        new VdiMetadata(
            str(r.get("name_label")), str(r.get("name_description")), type, false, null, null);
    org.xsm.api.Sr sr = storage.sr(srRef);
    VdiInfo v = storage.sm("vdi_create", srRef, () -> sr.createVdi(size, meta));
    String ref = storage.introduce(srRef, v);
    Map<String, Object> extra = new HashMap<>();
    extra.put("sharable", Params.bool(r.getOrDefault("sharable", false), "sharable"));
    extra.put("other_config", Params.stringMap(r.get("other_config"), "other_config"));
    extra.put("xenstore_data", Params.stringMap(r.get("xenstore_data"), "xenstore_data"));
    if (r.get("tags") != null) {
      extra.put("tags", Params.strings(r.get("tags"), "tags"));
    }
    db.set("VDI", ref, extra);
    return ref;
  }

  private static String str(Object o) {
    return o == null ? "" : String.valueOf(o);
  }

  /** VDI.destroy: the plugin deletes the data, then the record and its VBDs go. */
  public void destroyVdi(String vdi) throws XenApiException {
    String srRef = (String) db.field("VDI", vdi, "SR");
    for (String vbd : db.find("VBD", f -> vdi.equals(f.get("VDI")))) {
      if (Boolean.TRUE.equals(db.field("VBD", vbd, "currently_attached"))) {
        throw new XenApiException("VDI_IN_USE", vdi, "destroy");
      }
    }
    org.xsm.api.Sr sr = storage.sr(srRef);
    String loc = (String) db.field("VDI", vdi, "location");
    storage.sm(
        "vdi_delete",
        vdi,
        () -> {
          sr.deleteVdi(loc);
          return null;
        });
    for (String vbd : db.find("VBD", f -> vdi.equals(f.get("VDI")))) {
      db.destroy("VBD", vbd);
    }
    db.destroy("VDI", vdi);
  }

  /**
   * VDI.snapshot / VDI.clone: the plugin makes the data, then the record is linked as xapi does.
   */
  public String snapshot(String vdi, boolean clone) throws XenApiException {
    String ref = snapshotNoScan(vdi, clone);
    storage.scan((String) db.field("VDI", vdi, "SR")); // base copies appear, figures update
    return ref;
  }

  /** {@link #snapshot} without the SR scan: callers snapshotting several disks scan once. */
  public String snapshotNoScan(String vdi, boolean clone) throws XenApiException {
    Map<String, Object> src = db.record("VDI", vdi);
    String srRef = (String) src.get("SR");
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    VdiMetadata meta =
        new VdiMetadata(
            (String) src.get("name_label"),
            (String) src.get("name_description"),
            (String) src.get("type"),
            !clone,
            clone ? null : (String) src.get("location"),
            clone ? null : now);
    org.xsm.api.Sr sr = storage.sr(srRef);
    String loc = (String) src.get("location");
    VdiInfo v =
        clone
            ? storage.sm("vdi_clone", vdi, () -> sr.cloneVdi(loc, meta))
            : storage.sm("vdi_snapshot", vdi, () -> sr.snapshot(loc, SnapshotKind.DOUBLE, meta));
    String ref = storage.introduce(srRef, v);
    Map<String, Object> f = new HashMap<>();
    for (String k :
        List.of("sharable", "other_config", "xenstore_data", "on_boot", "allow_caching", "tags")) {
      f.put(k, src.get(k));
    }
    if (!clone) {
      f.put("is_a_snapshot", true);
      f.put("snapshot_of", vdi);
      f.put("snapshot_time", now);
    }
    db.set("VDI", ref, f);
    return ref;
  }

  private void resize(String vdi, long size) throws XenApiException {
    String srRef = (String) db.field("VDI", vdi, "SR");
    org.xsm.api.Sr sr = storage.sr(srRef);
    String loc = (String) db.field("VDI", vdi, "location");
    VdiInfo v = storage.sm("vdi_resize", vdi, () -> sr.resize(loc, size));
    db.set("VDI", vdi, storage.fromPlugin(v, false));
  }
}
