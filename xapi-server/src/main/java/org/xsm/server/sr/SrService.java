package org.xsm.server.sr;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.ToLongFunction;
import org.xsm.api.GcCounters;
import org.xsm.api.SmDriver;
import org.xsm.api.SmException;
import org.xsm.api.SrConfig;
import org.xsm.api.SrStats;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.plugins.registry.PluginRegistry;
import org.xsm.server.db.Database;
import org.xsm.server.model.Pbd;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.WireEnum;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * The bridge between XenAPI records and SM plugins: attached SRs by reference, plugin calls counted
 * and mapped to XenAPI errors, VDI records made from what the plugin reports, and the scan that
 * reconciles the two by location (introduce what the SR has and the database lacks, forget the
 * reverse, update what differs). After an operation that changes an SR's tree, {@link #reconcile}
 * applies just the VDIs the plugin says it changed: no whole-SR scan on a request path.
 */
@ApplicationScoped
public class SrService {
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(SrService.class);
  @Inject DeviceConfigSecrets secrets;
  @Inject Database db;
  @Inject MeterRegistry metrics;
  @Inject org.xsm.server.host.HostService hosts;

  /** The other hosts' storage (unsatisfied without the pool feature). */
  @Inject jakarta.enterprise.inject.Instance<HostStorage> hostStorage;

  /** Whether a PBD belongs to another host of the pool, which plugs it through its agent. */
  private boolean elsewhere(Ref<Pbd> pbd) throws XenApiException {
    return hostStorage.isResolvable() && hostStorage.get().isOtherHost(db.get(pbd, Pbd.HOST));
  }

  private final PluginRegistry registry = PluginRegistry.load();
  private final Map<Ref<Sr>, org.xsm.api.Sr> attached = new ConcurrentHashMap<>();
  private final List<BiConsumer<Ref<Sr>, org.xsm.api.Sr>> attachHooks =
      new CopyOnWriteArrayList<>();

  /** An SM plugin call. */
  public interface SmCall<T> {
    T run() throws SmException;
  }

  /** An SM plugin call without a result. */
  public interface SmAction {
    void run() throws SmException;
  }

  /** Runs a plugin call, counting it by operation and outcome, and mapping its failure. */
  public <T> T sm(String op, Ref<?> ref, SmCall<T> call) throws XenApiException {
    try {
      T t = call.run();
      count(op, null);
      return t;
    } catch (SmException e) {
      count(op, e);
      throw SmErrors.of(e, String.valueOf(ref));
    }
  }

  /** {@link #sm} for calls without a result. */
  public void smRun(String op, Ref<?> ref, SmAction call) throws XenApiException {
    sm(
        op,
        ref,
        () -> {
          call.run();
          return null;
        });
  }

  private void count(String op, SmException e) {
    metrics
        .counter("xsm.sm.operations", "op", op, "outcome", e == null ? "success" : e.error().name())
        .increment();
  }

  /** Calls {@code hook} with each SR attached from now on, and at once with those attached. */
  public void onAttach(BiConsumer<Ref<Sr>, org.xsm.api.Sr> hook) {
    attachHooks.add(hook);
    attached.forEach(hook);
  }

  /** The attached SRs by reference, as of now. */
  public Map<Ref<Sr>, org.xsm.api.Sr> attachedSrs() {
    return Map.copyOf(attached);
  }

  public PluginRegistry registry() {
    return registry;
  }

  /** The driver of an SR type. */
  public SmDriver driver(String type) throws XenApiException {
    try {
      return registry.driver(type);
    } catch (SmException e) {
      throw SmErrors.of(e, type);
    }
  }

  /** The attached SR of a record, plugging its PBD if needed. */
  public org.xsm.api.Sr plugin(Ref<Sr> srRef) throws XenApiException {
    org.xsm.api.Sr s = attached.get(srRef);
    if (s != null) {
      return s;
    }
    List<Ref<Pbd>> pbds = db.get(srRef, Sr.PBDS);
    if (pbds.isEmpty()) {
      throw new XenApiException(XenApiError.SR_HAS_NO_PBDS, srRef.value());
    }
    // This host's PBD (a shared SR has one per host of the pool).
    Ref<Pbd> mine = pbds.get(0);
    for (Ref<Pbd> p : pbds) {
      if (db.get(p, Pbd.HOST).equals(hosts.host())) {
        mine = p;
        break;
      }
    }
    if (elsewhere(mine)) {
      throw new XenApiException(XenApiError.SR_HAS_NO_PBDS, srRef.value());
    }
    plug(mine);
    return attached.get(srRef);
  }

  /** PBD.plug: attaches the SR through its driver. */
  public synchronized void plug(Ref<Pbd> pbdRef) throws XenApiException {
    Ref<Sr> srRef = db.get(pbdRef, Pbd.SR);
    if (elsewhere(pbdRef)) {
      hostStorage
          .get()
          .plug(
              db.get(pbdRef, Pbd.HOST),
              db.get(srRef, Sr.UUID),
              db.get(srRef, Sr.TYPE),
              secrets.reveal(db.get(pbdRef, Pbd.DEVICE_CONFIG)),
              db.get(srRef, Sr.OTHER_CONFIG));
      db.set(pbdRef, Pbd.CURRENTLY_ATTACHED, true);
      return;
    }
    if (!attached.containsKey(srRef)) {
      String type = db.get(srRef, Sr.TYPE);
      String uuid = db.get(srRef, Sr.UUID);
      SrConfig cfg =
          new SrConfig(
              uuid,
              secrets.reveal(db.get(pbdRef, Pbd.DEVICE_CONFIG)),
              db.get(srRef, Sr.OTHER_CONFIG));
      SmDriver drv = driver(type);
      org.xsm.api.Sr s = sm("sr_attach", srRef, () -> drv.attach(cfg));
      attached.put(srRef, s);
      attachHooks.forEach(h -> h.accept(srRef, s));
      gauges(srRef, uuid);
    }
    db.set(pbdRef, Pbd.CURRENTLY_ATTACHED, true);
  }

  private void gauges(Ref<Sr> srRef, String uuid) {
    Map<String, ToLongFunction<GcCounters>> gauges =
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
                List.of(Tag.of("sr", uuid)),
                this,
                svc -> {
                  org.xsm.api.Sr cur = svc.attached.get(srRef);
                  return cur == null ? 0 : field.applyAsLong(cur.gcCounters());
                }));
  }

  /**
   * Detaches every SR this server attached, records untouched (a master handing its role over: its
   * PBDs are the new master's to plug, through this host's agent).
   */
  public synchronized void detachAll() {
    for (Map.Entry<Ref<Sr>, org.xsm.api.Sr> e : attached.entrySet()) {
      try {
        e.getValue().detach();
      } catch (SmException x) {
        LOG.warnf(x, "SR %s not detached when this host stopped being the master", e.getKey());
      }
    }
    attached.clear();
  }

  /** PBD.unplug: detaches the SR. */
  public synchronized void unplug(Ref<Pbd> pbdRef) throws XenApiException {
    Ref<Sr> srRef = db.get(pbdRef, Pbd.SR);
    if (elsewhere(pbdRef)) {
      if (db.get(pbdRef, Pbd.CURRENTLY_ATTACHED)) {
        hostStorage.get().unplug(db.get(pbdRef, Pbd.HOST), db.get(srRef, Sr.UUID));
      }
      db.set(pbdRef, Pbd.CURRENTLY_ATTACHED, false);
      return;
    }
    org.xsm.api.Sr s = attached.get(srRef);
    if (s != null) {
      smRun("sr_detach", srRef, s::detach);
      attached.remove(srRef);
    }
    db.set(pbdRef, Pbd.CURRENTLY_ATTACHED, false);
  }

  /** Attaches and activates a VDI (for a running VM, a transfer, a copy). */
  public VdiDevice activate(Ref<Vdi> vdiRef, boolean writable) throws XenApiException {
    String loc = db.get(vdiRef, Vdi.LOCATION);
    org.xsm.api.Sr s = plugin(db.get(vdiRef, Vdi.SR));
    smRun("vdi_attach", vdiRef, () -> s.attachVdi(loc, writable));
    try {
      return sm("vdi_activate", vdiRef, () -> s.activateVdi(loc));
    } catch (XenApiException e) {
      smRun("vdi_detach", vdiRef, () -> s.detachVdi(loc));
      throw e;
    }
  }

  private final ReadShares readShares =
      new ReadShares(
          new ReadShares.Activations() {
            @Override
            public VdiDevice activate(Ref<Vdi> vdi) throws XenApiException {
              return SrService.this.activate(vdi, false);
            }

            @Override
            public void deactivate(Ref<Vdi> vdi) throws XenApiException {
              SrService.this.deactivate(vdi);
            }
          });

  /**
   * Activates a VDI read-only for one reader, sharing the activation with its other read-only
   * readers (see {@link ReadShares}); closing the lease releases it.
   */
  public ReadShares.Lease readShared(Ref<Vdi> vdiRef) throws XenApiException {
    return readShares.acquire(vdiRef);
  }

  /** Deactivates and detaches a VDI. */
  public void deactivate(Ref<Vdi> vdiRef) throws XenApiException {
    String loc = db.get(vdiRef, Vdi.LOCATION);
    org.xsm.api.Sr s = plugin(db.get(vdiRef, Vdi.SR));
    smRun("vdi_detach", vdiRef, () -> s.detachVdi(loc));
  }

  /** SR.scan: reconciles VDI records with the SR by location, and refreshes the SR's figures. */
  public synchronized void scan(Ref<Sr> srRef) throws XenApiException {
    org.xsm.api.Sr s = plugin(srRef);
    List<VdiInfo> found = sm("sr_scan", srRef, s::scan);
    Map<String, Ref<Vdi>> byLocation = new HashMap<>();
    for (Ref<Vdi> ref : db.get(srRef, Sr.VDIS)) {
      byLocation.put(db.get(ref, Vdi.LOCATION), ref);
    }
    Set<String> seen = new HashSet<>();
    for (VdiInfo v : found) {
      seen.add(v.location());
    }
    for (Map.Entry<String, Ref<Vdi>> e : byLocation.entrySet()) {
      if (!seen.contains(e.getKey())) {
        db.destroy(Vdi.CLASS, e.getValue());
      }
    }
    apply(srRef, found, byLocation, false);
    refreshStats(srRef, s);
  }

  /**
   * Applies what a plugin reported of some VDIs after an operation (a snapshot's new base copy, the
   * leaf's new figures): each is introduced or updated by location, and the SR's figures move by
   * the differences (as xapi's FileSR updates its stats after a snapshot); a scan recounts them.
   * Costs the number of VDIs reported, not the size of the SR.
   */
  public synchronized void reconcile(Ref<Sr> srRef, Collection<VdiInfo> changed)
      throws XenApiException {
    Map<String, Ref<Vdi>> byLocation = new HashMap<>();
    for (VdiInfo v : changed) {
      Ref<Vdi> ref = find(srRef, v.location());
      if (ref != null) {
        byLocation.put(v.location(), ref);
      }
    }
    apply(srRef, changed, byLocation, true);
  }

  /** Introduces or updates each VDI; {@code adjust}: move the SR's figures (a scan recounts). */
  private void apply(
      Ref<Sr> srRef, Collection<VdiInfo> found, Map<String, Ref<Vdi>> byLocation, boolean adjust)
      throws XenApiException {
    long physical = 0;
    long virtual = 0;
    for (VdiInfo v : found) {
      Ref<Vdi> ref = byLocation.get(v.location());
      if (ref == null) {
        introduce(srRef, v, false);
        physical += v.physicalUtilisationBytes();
        virtual += v.managed() ? v.virtualSizeBytes() : 0;
      } else {
        long before = db.get(ref, Vdi.PHYSICAL_UTILISATION);
        if (db.update(Vdi.CLASS, ref, VdiRecords.fromPlugin(v))) {
          physical += v.physicalUtilisationBytes() - before;
        }
      }
    }
    if (adjust) {
      adjustFigures(srRef, physical, virtual); // one change of the SR for the whole batch
    }
  }

  /** Moves the SR's utilisation and virtual allocation by what a VDI change added or removed. */
  private void adjustFigures(Ref<Sr> srRef, long physical, long virtual) throws XenApiException {
    if (physical == 0 && virtual == 0) {
      return;
    }
    db.modify(
        Sr.CLASS,
        srRef,
        sr ->
            Values.of(Sr.CLASS)
                .with(
                    Sr.PHYSICAL_UTILISATION,
                    Math.max(0, sr.get(Sr.PHYSICAL_UTILISATION) + physical))
                .with(Sr.VIRTUAL_ALLOCATION, Math.max(0, sr.get(Sr.VIRTUAL_ALLOCATION) + virtual)));
  }

  private void refreshStats(Ref<Sr> srRef, org.xsm.api.Sr s) throws XenApiException {
    SrStats stats = sm("sr_stats", srRef, s::stats);
    db.update(
        Sr.CLASS,
        srRef,
        Values.of(Sr.CLASS)
            .with(Sr.PHYSICAL_SIZE, stats.physicalSizeBytes())
            .with(Sr.PHYSICAL_UTILISATION, stats.physicalUtilisationBytes())
            .with(Sr.VIRTUAL_ALLOCATION, stats.virtualAllocationBytes()));
  }

  /** The VDI record of a location in an SR, or null. */
  public Ref<Vdi> find(Ref<Sr> srRef, String location) throws XenApiException {
    for (Ref<Vdi> ref : db.where(Vdi.LOCATION, location)) {
      if (db.get(ref, Vdi.SR).equals(srRef)) {
        return ref;
      }
    }
    return null;
  }

  /**
   * A VDI record for something the SR reports (a VDI just made); snapshot links come from the SR's
   * metadata, and the SR's figures grow by it.
   */
  public Ref<Vdi> introduce(Ref<Sr> srRef, VdiInfo v) throws XenApiException {
    return introduce(srRef, v, true);
  }

  private Ref<Vdi> introduce(Ref<Sr> srRef, VdiInfo v, boolean adjust) throws XenApiException {
    Ref<Vdi> of = null;
    if (v.metadata() != null && v.metadata().snapshotOf() != null) {
      of = find(srRef, v.metadata().snapshotOf());
    }
    Values<Vdi> f = VdiRecords.fromPluginFull(v, of);
    f.with(Vdi.SR, srRef).with(Vdi.UUID, v.uuid());
    if (v.metadata() == null && !v.managed()) {
      f.with(Vdi.NAME_LABEL, "base copy");
    }
    Ref<Vdi> ref = db.create(Vdi.CLASS, f);
    if (adjust) {
      adjustFigures(srRef, v.physicalUtilisationBytes(), v.managed() ? v.virtualSizeBytes() : 0);
    }
    return ref;
  }

  /** A VDI type from a plugin's metadata (unknown types read as user). */
  static VdiType type(String wire) {
    VdiType t = WireEnum.parse(VdiType.class, wire);
    return t == null ? VdiType.USER : t;
  }
}
