package org.xsm.server.xva;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleConsumer;
import org.xsm.api.SmException;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Host;
import org.xsm.server.model.Network;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.VbdType;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.VmGuestMetrics;
import org.xsm.server.model.VmMetrics;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.SrService;
import org.xsm.server.xva.OvaXml.Header;
import org.xsm.server.xva.OvaXml.Version;
import org.xsm.server.xva.OvaXml.XvaObject;

/**
 * xapi's VM export (export.ml): the VM's objects (the VM, its VIFs and their networks, its VBDs,
 * their VDIs and SRs, its metrics, the hosts it names) each get an export id {@code Ref:<n>} in
 * that order; ova.xml lists them by class; then each disk (not CDs, not ISO SRs), in the
 * lexicographic order of their ids, as {@link DiskChunks}. The VM must not be running (its disks
 * are read through their devices, activated read-only for the export).
 */
@ApplicationScoped
public class XvaExporter {
  /** xapi's {@code export_vsn}: checksums inline after each chunk. */
  static final int EXPORT_VSN = 2;

  private static final List<XClass<?>> CLASS_ORDER =
      List.of(
          Host.CLASS,
          Vm.CLASS,
          VmMetrics.CLASS,
          VmGuestMetrics.CLASS,
          Vbd.CLASS,
          Vif.CLASS,
          Network.CLASS,
          Vdi.CLASS,
          Sr.CLASS);

  @Inject Database db;
  @Inject SrService storage;
  @Inject HostService hosts;

  /** A disk of the export: its export id (the chunk files' directory), VDI and size. */
  record Disk(String id, Ref<Vdi> vdi, long sizeBytes) {}

  /** What an export of one VM holds. */
  record Plan(Header header, List<Disk> disks) {
    long totalBytes() {
      return disks.stream().mapToLong(Disk::sizeBytes).sum();
    }
  }

  /** The export of {@code vm}: its ova.xml and its disks. */
  Plan plan(Ref<Vm> vm) throws XenApiException {
    Map<String, String> ids = new LinkedHashMap<>();
    Row<Vm> r = db.read(Vm.CLASS, vm);
    add(ids, vm);
    for (Ref<Vif> vif : r.get(Vm.VIFS)) {
      add(ids, vif);
      add(ids, db.get(vif, Vif.NETWORK));
    }
    for (Ref<Vbd> vbd : r.get(Vm.VBDS)) {
      add(ids, vbd);
      Ref<Vdi> vdi = db.get(vbd, Vbd.VDI);
      if (!db.get(vbd, Vbd.EMPTY) && db.exists(Vdi.CLASS, vdi)) {
        add(ids, vdi);
        add(ids, db.get(vdi, Vdi.SR));
      }
    }
    add(ids, r.get(Vm.METRICS));
    add(ids, r.get(Vm.GUEST_METRICS));
    add(ids, r.get(Vm.RESIDENT_ON));
    add(ids, r.get(Vm.AFFINITY));
    List<XvaObject> objects = new ArrayList<>();
    for (XClass<?> c : CLASS_ORDER) {
      for (Map.Entry<String, String> e : ids.entrySet()) {
        if (db.classOf(e.getKey()) == c) {
          Map<String, Object> wire = db.wireRecord(c, e.getKey());
          objects.add(new XvaObject(c.name(), e.getValue(), ExportRecords.rewrite(c, wire, ids)));
        }
      }
    }
    List<Disk> disks = new ArrayList<>();
    for (Ref<Vbd> vbd : r.get(Vm.VBDS)) {
      Ref<Vdi> vdi = db.get(vbd, Vbd.VDI);
      if (db.get(vbd, Vbd.TYPE) != VbdType.CD
          && ids.containsKey(vdi.value())
          && !"iso".equals(db.get(db.get(vdi, Vdi.SR), Sr.CONTENT_TYPE))
          && disks.stream().noneMatch(d -> d.vdi().equals(vdi))) {
        disks.add(new Disk(ids.get(vdi.value()), vdi, db.get(vdi, Vdi.VIRTUAL_SIZE)));
      }
    }
    disks.sort(Comparator.comparing(Disk::id));
    return new Plan(new Header(version(), objects), disks);
  }

  private void add(Map<String, String> ids, Ref<?> ref) {
    if (!ref.isNull() && db.classOf(ref.value()) != null) {
      ids.putIfAbsent(ref.value(), "Ref:" + ids.size());
    }
  }

  /** This host's version struct; xapi's numbers from its {@code software_version["xapi"]}. */
  Version version() throws XenApiException {
    Map<String, String> sw = db.get(hosts.host(), Host.SOFTWARE_VERSION);
    int[] xapi = xapiVersion(sw.getOrDefault("xapi", "0.0"));
    return new Version(
        db.get(hosts.host(), Host.HOSTNAME),
        sw.getOrDefault("date", ""),
        sw.getOrDefault("product_version", ""),
        sw.getOrDefault("product_brand", ""),
        sw.getOrDefault("build_number", ""),
        xapi[0],
        xapi[1],
        EXPORT_VSN);
  }

  static int[] xapiVersion(String s) {
    String[] p = s.split("\\.");
    try {
      return new int[] {Integer.parseInt(p[0]), p.length > 1 ? Integer.parseInt(p[1]) : 0};
    } catch (NumberFormatException e) {
      return new int[] {0, 0};
    }
  }

  /**
   * Writes the archive of {@code plan} into {@code out} (uncompressed; the caller wraps it), not
   * closing it; {@code progress} gets the fraction of disk bytes covered.
   */
  void write(Plan plan, OutputStream out, DoubleConsumer progress)
      throws IOException, SmException, XenApiException {
    TarOutput tar = new TarOutput(out, Instant.now().getEpochSecond());
    byte[] xml = OvaXml.encode(plan.header());
    tar.file(OvaXml.FILE_NAME, xml, 0, xml.length);
    long total = Math.max(1, plan.totalBytes());
    long before = 0;
    for (Disk disk : plan.disks()) {
      try (var lease = storage.readShared(disk.vdi())) {
        long base = before;
        DiskChunks.write(
            tar, disk.id(), lease.device(), n -> progress.accept((double) (base + n) / total));
      }
      before += disk.sizeBytes();
    }
    tar.finish();
  }
}
