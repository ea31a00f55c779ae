package org.xsm.server.xva;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.Host;
import org.xsm.server.model.Network;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.network.NetworkService;
import org.xsm.server.vdi.VdiService;
import org.xsm.server.vm.VmDevices;
import org.xsm.server.vm.VmOperations;
import org.xsm.server.vm.VmService;
import org.xsm.server.xva.OvaXml.Header;
import org.xsm.server.xva.OvaXml.XvaObject;

/**
 * The records of an import, made class by class in xapi's order (import.ml {@code handlers}): hosts
 * (this host if the UUID is its own, else none), SRs (every non-ISO SR is the target SR), VDIs (new
 * on the target SR; a disk of an ISO SR is looked up by location in this host's ISO SRs, or the CD
 * is ejected), VMs, networks (by name, then bridge, else made), VBDs, VIFs (MAC regenerated unless
 * a full restore). Everything made carries {@link #INCOMPLETE} in its {@code other_config} (the VM
 * also has {@code import} in its {@code current_operations}) until the import completes; each is
 * registered for undo in the {@link ImportState}.
 */
@ApplicationScoped
public class XvaObjects {
  /** The mark of a record an unfinished import made (its value: the import's task). */
  public static final String INCOMPLETE = "xsm_import_incomplete";

  private static final Logger LOG = Logger.getLogger(XvaObjects.class);

  @Inject Database db;
  @Inject HostService hosts;
  @Inject VdiService vdis;
  @Inject VmService vms;
  @Inject VmDevices devices;
  @Inject VmOperations operations;
  @Inject NetworkService networks;

  /** How to import: xapi's {@code restore} (keep UUIDs and MACs) and {@code force}. */
  record Options(boolean fullRestore, boolean force) {}

  /** Makes or finds every object of {@code h}, filling {@code s}. */
  void create(Header h, Ref<Sr> sr, Options o, String task, ImportState s)
      throws XenApiException, XvaFormatException {
    for (XvaObject x : h.of("host")) {
      String uuid = ImportRecords.str(x.snapshot(), "uuid");
      if (uuid.equals(db.get(hosts.host(), Host.UUID))) {
        s.table.put(x.id(), hosts.host().value());
      }
    }
    for (XvaObject x : h.of("SR")) {
      if (!"iso".equals(ImportRecords.str(x.snapshot(), "content_type"))) {
        s.table.put(x.id(), sr.value());
      }
    }
    for (XvaObject x : h.of("VDI")) {
      vdi(h, x, task, s);
    }
    for (XvaObject x : h.of("VM")) {
      vm(x, o, task, s);
    }
    for (XvaObject x : h.of("network")) {
      network(x, task, s);
    }
    for (XvaObject x : h.of("VBD")) {
      vbd(x, o, s);
    }
    for (XvaObject x : h.of("VIF")) {
      vif(x, o, s);
    }
    for (XvaObject x : h.objects()) {
      if (List.of("VGPU", "VTPM", "PVS_proxy", "PVS_site", "GPU_group", "VGPU_type")
          .contains(x.cls())) {
        LOG.warnf("import: %s %s is not imported (xsm has no such devices)", x.cls(), x.id());
      }
    }
  }

  private void vdi(Header h, XvaObject x, String task, ImportState s)
      throws XenApiException, XvaFormatException {
    Map<String, Object> r = x.snapshot();
    XvaObject srObject = h.find(ImportRecords.str(r, "SR"));
    if (srObject != null && "iso".equals(ImportRecords.str(srObject.snapshot(), "content_type"))) {
      String location = ImportRecords.str(r, "location");
      for (Ref<Vdi> v : db.where(Vdi.LOCATION, location)) {
        if ("iso".equals(db.get(db.get(v, Vdi.SR), Sr.CONTENT_TYPE))) {
          s.table.put(x.id(), v.value());
          return;
        }
      }
      LOG.warnf("import: no ISO with location %s here; its CD drive will be empty", location);
      return;
    }
    String target = s.table.get(ImportRecords.str(r, "SR"));
    if (target == null) {
      throw new XvaFormatException("ova.xml: VDI " + x.id() + " names an SR that is not exported");
    }
    Map<String, String> other = ImportRecords.map(r, "other_config");
    other.put(INCOMPLETE, task);
    Map<String, String> sm = new LinkedHashMap<>();
    String format = ImportRecords.map(r, "sm_config").get("image-format");
    if (format != null) {
      sm.put("image-format", format);
    }
    VdiType type =
        Vdi.TYPE.decode(ImportRecords.values(Vdi.CLASS, r, Map.of()).stored().get("type"));
    if (type == null) {
      type = VdiType.USER; // no type, or one this server lacks
    }
    long size = ImportRecords.lng(r, "virtual_size");
    Ref<Vdi> vdi =
        vdis.create(
            new VdiService.VdiSpec(
                Ref.of(target),
                size,
                ImportRecords.str(r, "name_label"),
                ImportRecords.str(r, "name_description"),
                type,
                ImportRecords.bool(r, "sharable"),
                other,
                ImportRecords.map(r, "xenstore_data"),
                r.get("tags") instanceof List<?> l
                    ? l.stream().map(String::valueOf).toList()
                    : null,
                sm));
    s.onFailure("VDI " + vdi, () -> vdis.destroy(vdi));
    s.table.put(x.id(), vdi.value());
    s.disks.add(new ImportState.Target(x.id(), vdi, size));
  }

  private void vm(XvaObject x, Options o, String task, ImportState s)
      throws XenApiException, XvaFormatException {
    Map<String, Object> r = x.snapshot();
    Map<String, String> other = ImportRecords.map(r, "other_config");
    boolean defaultTemplate =
        ImportRecords.bool(r, "is_default_template")
            || (ImportRecords.bool(r, "is_a_template")
                && "true".equals(other.get("default_template")));
    String name = ImportRecords.str(r, "name_label");
    if (defaultTemplate && !db.where(Vm.NAME_LABEL, name).isEmpty()) {
      s.table.put(x.id(), db.where(Vm.NAME_LABEL, name).get(0).value());
      return;
    }
    String uuid = ImportRecords.str(r, "uuid");
    List<Ref<Vm>> same = db.where(Vm.UUID, uuid);
    if (o.fullRestore() && !same.isEmpty()) {
      Ref<Vm> old = same.get(0);
      PowerState state = db.get(old, Vm.POWER_STATE);
      if (state != PowerState.HALTED) {
        if (o.force()) {
          LOG.infof("import: VM %s is not halted here: skipped, as force is set", uuid);
          return;
        }
        throw new XenApiException(
            XenApiError.VM_BAD_POWER_STATE, old.value(), "halted", state.wire().toLowerCase());
      }
      long mine = db.get(old, Vm.VERSION);
      long theirs = r.containsKey("version") ? ImportRecords.lng(r, "version") : 0;
      if (mine >= theirs && !o.force()) {
        throw new XenApiException(
            XenApiError.VM_TO_IMPORT_IS_NOT_NEWER_VERSION,
            old.value(),
            Long.toString(mine),
            Long.toString(theirs));
      }
      // As xapi: the VM being restored replaces this one (its devices go, its disks stay).
      vms.destroy(old);
    }
    Values<Vm> f = ImportRecords.values(Vm.CLASS, r, s.table);
    if (!o.force()) {
      other.remove("default_template");
      f.with(Vm.IS_DEFAULT_TEMPLATE, false);
    }
    if (!o.fullRestore() && other.containsKey("mac_seed")) {
      // Another VM with this seed would get the same generated MACs: a new VM gets a new seed.
      other.remove("mac_seed");
    }
    other.put("import_task", task);
    other.put(INCOMPLETE, task);
    f.with(Vm.OTHER_CONFIG, other)
        .with(Vm.POWER_STATE, PowerState.HALTED)
        .with(Vm.SUSPEND_VDI, Ref.nullRef())
        .with(Vm.RESIDENT_ON, Ref.nullRef()) // halted: resident nowhere
        .with(Vm.SNAPSHOT_OF, Ref.nullRef())
        .with(Vm.PARENT, Ref.nullRef())
        .with(Vm.CURRENT_OPERATIONS, Map.of())
        .without(Vm.METRICS)
        .without(Vm.GUEST_METRICS);
    if (o.fullRestore()) {
      f.with(Vm.UUID, uuid);
    }
    Ref<Vm> vm = vms.create(f);
    s.onFailure(
        "VM " + vm,
        () -> {
          db.set(vm, Vm.CURRENT_OPERATIONS, Map.of());
          vms.destroy(vm);
        });
    db.set(vm, Vm.CURRENT_OPERATIONS, Map.of(task, VmOperations.Op.IMPORT.wire()));
    operations.update(vm);
    s.table.put(x.id(), vm.value());
    s.vms.add(vm);
  }

  private void network(XvaObject x, String task, ImportState s) throws XenApiException {
    Map<String, Object> r = x.snapshot();
    List<Ref<Network>> byName = db.where(Network.NAME_LABEL, ImportRecords.str(r, "name_label"));
    if (!byName.isEmpty()) {
      s.table.put(x.id(), byName.get(0).value());
      return;
    }
    String bridge = ImportRecords.str(r, "bridge");
    List<Ref<Network>> byBridge =
        db.fullScan(Network.CLASS, n -> n.get(Network.BRIDGE).equals(bridge));
    if (!byBridge.isEmpty()) {
      s.table.put(x.id(), byBridge.get(0).value());
      return;
    }
    Values<Network> f = ImportRecords.values(Network.CLASS, r, Map.of());
    Map<String, String> other = ImportRecords.map(r, "other_config");
    other.put("import_task", task);
    other.put(INCOMPLETE, task);
    f.with(Network.OTHER_CONFIG, other);
    Ref<Network> net = db.create(Network.CLASS, f);
    s.onFailure("network " + net, () -> networks.destroy(net));
    s.table.put(x.id(), net.value());
  }

  private void vbd(XvaObject x, Options o, ImportState s) throws XenApiException {
    Map<String, Object> r = x.snapshot();
    if (!s.table.containsKey(ImportRecords.str(r, "VM"))) {
      return; // its VM was skipped
    }
    Values<Vbd> f = ImportRecords.values(Vbd.CLASS, r, s.table);
    boolean cd = "CD".equalsIgnoreCase(ImportRecords.str(r, "type"));
    if (!s.table.containsKey(ImportRecords.str(r, "VDI"))) {
      if (!cd) {
        LOG.warnf("import: VBD %s is a disk whose VDI is not in the archive: left out", x.id());
        return;
      }
      f.with(Vbd.VDI, Ref.nullRef()).with(Vbd.EMPTY, true); // ejected
    }
    f.with(Vbd.DEVICE, "")
        .with(Vbd.CURRENTLY_ATTACHED, false)
        .with(Vbd.CURRENT_OPERATIONS, Map.of());
    if (o.fullRestore()) {
      f.with(Vbd.UUID, ImportRecords.str(r, "uuid"));
    }
    Ref<Vbd> vbd = devices.createVbd(f);
    s.onFailure("VBD " + vbd, () -> db.destroy(Vbd.CLASS, vbd));
  }

  private void vif(XvaObject x, Options o, ImportState s) throws XenApiException {
    Map<String, Object> r = x.snapshot();
    if (!s.table.containsKey(ImportRecords.str(r, "VM"))) {
      return;
    }
    Values<Vif> f = ImportRecords.values(Vif.CLASS, r, s.table);
    if (!o.fullRestore()) {
      f.with(Vif.MAC, "");
    }
    f.with(Vif.CURRENT_OPERATIONS, Map.of());
    if (o.fullRestore()) {
      f.with(Vif.UUID, ImportRecords.str(r, "uuid"));
    }
    Ref<Vif> vif = devices.createVif(f);
    s.onFailure("VIF " + vif, () -> db.destroy(Vif.CLASS, vif));
  }
}
