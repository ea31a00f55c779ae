package org.xsm.server.storage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.xsm.api.GcCounters;
import org.xsm.api.SmDriver;
import org.xsm.api.SmException;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.SrStats;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.registry.PluginRegistry;
import org.xsm.server.db.Database;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.XenApiException;

/**
 * The bridge between XenAPI records and SM plugins: attached SRs by reference, VDI records made
 * from what the plugin reports, and the scan that reconciles the two by location (introduce what
 * the SR has and the database lacks, forget the reverse, update what differs).
 */
@ApplicationScoped
public class StorageService {
  @Inject Database db;
  @Inject io.micrometer.core.instrument.MeterRegistry metrics;
  private final PluginRegistry registry = PluginRegistry.load();
  private final Map<String, Sr> attached = new ConcurrentHashMap<>();

  /** Counts an SM operation by name and outcome (SM error code or success). */
  void count(String op, SmException e) {
    metrics
        .counter("xsm.sm.operations", "op", op, "outcome", e == null ? "success" : e.error().name())
        .increment();
  }

  /** An SM plugin call. */
  public interface SmCall<T> {
    T run() throws SmException;
  }

  /** Runs a plugin call, counting it by operation and outcome, and mapping its failure. */
  public <T> T sm(String op, String ref, SmCall<T> call) throws XenApiException {
    try {
      T t = call.run();
      count(op, null);
      return t;
    } catch (SmException e) {
      count(op, e);
      throw SmErrors.of(e, ref);
    }
  }

  private final List<java.util.function.BiConsumer<String, Sr>> attachHooks =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Calls {@code hook} with each SR attached from now on, and at once with those attached. */
  public void onAttach(java.util.function.BiConsumer<String, Sr> hook) {
    attachHooks.add(hook);
    attached.forEach(hook);
  }

  /** The attached SRs by reference, as of now. */
  public Map<String, Sr> attachedSrs() {
    return Map.copyOf(attached);
  }

  public PluginRegistry registry() {
    return registry;
  }

  SmDriver driver(String type) throws XenApiException {
    try {
      return registry.driver(type);
    } catch (SmException e) {
      throw SmErrors.of(e, type);
    }
  }

  /** The attached SR of a record, plugging its PBD if needed. */
  public Sr sr(String srRef) throws XenApiException {
    Sr s = attached.get(srRef);
    if (s != null) {
      return s;
    }
    List<String> pbds = db.find("PBD", f -> srRef.equals(f.get("SR")));
    if (pbds.isEmpty()) {
      throw new XenApiException("SR_HAS_NO_PBDS", srRef);
    }
    plug(pbds.get(0));
    return attached.get(srRef);
  }

  /** PBD.plug: attaches the SR through its driver. */
  public synchronized void plug(String pbdRef) throws XenApiException {
    String srRef = (String) db.field("PBD", pbdRef, "SR");
    if (attached.containsKey(srRef)) {
      db.set("PBD", pbdRef, "currently_attached", true);
      return;
    }
    String type = (String) db.field("SR", srRef, "type");
    String uuid = (String) db.field("SR", srRef, "uuid");
    SrConfig cfg =
        new SrConfig(
            uuid,
            Params.stringMap(db.field("PBD", pbdRef, "device_config"), "device_config"),
            Params.stringMap(db.field("SR", srRef, "other_config"), "other_config"));
    SmDriver drv = driver(type);
    Sr s = sm("sr_attach", srRef, () -> drv.attach(cfg));
    attached.put(srRef, s);
    attachHooks.forEach(h -> h.accept(srRef, s));
    Map<String, java.util.function.ToLongFunction<GcCounters>> gauges =
        Map.of(
            "runs", GcCounters::runs,
            "garbage_deleted", GcCounters::garbageDeleted,
            "coalesced", GcCounters::coalesced,
            "leaf_coalesced", GcCounters::leafCoalesced,
            "bytes_copied", GcCounters::bytesCopied,
            "no_space", GcCounters::noSpace);
    gauges.forEach(
        (k, field) ->
            // Read through the map, so a re-attached SR's new object is what the gauge shows.
            metrics.gauge(
                "xsm.gc." + k,
                List.of(io.micrometer.core.instrument.Tag.of("sr", uuid)),
                this,
                svc -> {
                  Sr cur = svc.attached.get(srRef);
                  return cur == null ? 0 : field.applyAsLong(cur.gcCounters());
                }));
    db.set("PBD", pbdRef, "currently_attached", true);
  }

  /** PBD.unplug: detaches the SR. */
  public synchronized void unplug(String pbdRef) throws XenApiException {
    String srRef = (String) db.field("PBD", pbdRef, "SR");
    Sr s = attached.get(srRef);
    if (s != null) {
      sm(
          "sr_detach",
          srRef,
          () -> {
            s.detach();
            return null;
          });
      attached.remove(srRef);
    }
    db.set("PBD", pbdRef, "currently_attached", false);
  }

  /** Attaches and activates a VDI for a running VM. */
  public org.xsm.api.VdiDevice activate(String vdiRef, boolean writable) throws XenApiException {
    String srRef = (String) db.field("VDI", vdiRef, "SR");
    String loc = (String) db.field("VDI", vdiRef, "location");
    Sr s = sr(srRef);
    sm(
        "vdi_attach",
        vdiRef,
        () -> {
          s.attachVdi(loc, writable);
          return null;
        });
    try {
      return sm("vdi_activate", vdiRef, () -> s.activateVdi(loc));
    } catch (XenApiException e) {
      sm(
          "vdi_detach",
          vdiRef,
          () -> {
            s.detachVdi(loc);
            return null;
          });
      throw e;
    }
  }

  /** Deactivates and detaches a VDI. */
  public void deactivate(String vdiRef) throws XenApiException {
    String srRef = (String) db.field("VDI", vdiRef, "SR");
    Sr s = sr(srRef);
    String loc = (String) db.field("VDI", vdiRef, "location");
    sm(
        "vdi_detach",
        vdiRef,
        () -> {
          s.detachVdi(loc);
          return null;
        });
  }

  /** SR.scan: reconciles VDI records with the SR by location, and refreshes the SR's figures. */
  public synchronized void scan(String srRef) throws XenApiException {
    Sr s = sr(srRef);
    List<VdiInfo> found = sm("sr_scan", srRef, s::scan);
    SrStats stats = sm("sr_stats", srRef, s::stats);
    Map<String, String> byLocation = new HashMap<>();
    for (String ref : db.find("VDI", f -> srRef.equals(f.get("SR")))) {
      byLocation.put((String) db.field("VDI", ref, "location"), ref);
    }
    Set<String> seen = new HashSet<>();
    for (VdiInfo v : found) {
      seen.add(v.location());
      String ref = byLocation.get(v.location());
      if (ref == null) {
        introduce(srRef, v);
      } else {
        db.set("VDI", ref, fromPlugin(v, false));
      }
    }
    for (Map.Entry<String, String> e : byLocation.entrySet()) {
      if (!seen.contains(e.getKey())) {
        db.destroy("VDI", e.getValue());
      }
    }
    Map<String, Object> f = new HashMap<>();
    f.put("physical_size", stats.physicalSizeBytes());
    f.put("physical_utilisation", stats.physicalUtilisationBytes());
    f.put("virtual_allocation", stats.virtualAllocationBytes());
    db.set("SR", srRef, f);
  }

  /** A VDI record for something the SR reports; snapshot links come from the SR's metadata. */
  public String introduce(String srRef, VdiInfo v) throws XenApiException {
    Map<String, Object> f = fromPlugin(v, true);
    f.put("SR", srRef);
    f.put("uuid", v.uuid());
    return db.create("VDI", f);
  }

  /** Record fields from a plugin's description ({@code full}: also name and snapshot links). */
  Map<String, Object> fromPlugin(VdiInfo v, boolean full) throws XenApiException {
    Map<String, Object> f = new HashMap<>();
    f.put("location", v.location());
    f.put("virtual_size", v.virtualSizeBytes());
    f.put("physical_utilisation", v.physicalUtilisationBytes());
    f.put("read_only", v.readOnly());
    f.put("managed", v.managed());
    f.put("sm_config", new HashMap<>(v.smConfig()));
    f.put("cbt_enabled", v.cbtEnabled());
    VdiMetadata m = v.metadata();
    if (full && m != null) {
      f.put("name_label", m.nameLabel());
      f.put("name_description", m.nameDescription());
      f.put("type", m.type());
      f.put("is_a_snapshot", m.isASnapshot());
      if (m.snapshotTime() != null) {
        f.put("snapshot_time", m.snapshotTime());
      }
      if (m.snapshotOf() != null) {
        List<String> of = db.find("VDI", r -> m.snapshotOf().equals(r.get("location")));
        if (!of.isEmpty()) {
          f.put("snapshot_of", of.get(0));
        }
      }
    } else if (full && !v.managed()) {
      f.put("name_label", "base copy");
    }
    return f;
  }

  /** The metadata kept on the SR for a VDI record. */
  VdiMetadata metadataOf(String vdiRef) throws XenApiException {
    Map<String, Object> r = db.record("VDI", vdiRef);
    String of = (String) r.get("snapshot_of");
    String ofLocation = db.exists("VDI", of) ? (String) db.field("VDI", of, "location") : null;
    Instant t = (Instant) r.get("snapshot_time");
    return new VdiMetadata(
        (String) r.get("name_label"),
        (String) r.get("name_description"),
        (String) r.get("type"),
        (Boolean) r.get("is_a_snapshot"),
        ofLocation,
        Instant.EPOCH.equals(t) ? null : t.truncatedTo(ChronoUnit.SECONDS));
  }
}
