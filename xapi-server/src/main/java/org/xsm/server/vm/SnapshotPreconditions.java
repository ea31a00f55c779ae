package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.xsm.api.Capability;
import org.xsm.api.SmException;
import org.xsm.server.db.Database;
import org.xsm.server.model.OnBoot;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.SrService;

/**
 * Whether a VM can be snapshotted, and if not, why, in the XenAPI error that {@code VM.snapshot}
 * raises and in words for the console's tooltip. One place for both, so the console never offers
 * what the server then refuses. The checks follow xapi: snapshots and templates are not
 * snapshotted, sharable disks and disks reset on boot block it, and every disk's SR driver must
 * have {@code VDI_SNAPSHOT}.
 */
@ApplicationScoped
public class SnapshotPreconditions {
  @Inject Database db;
  @Inject SrService storage;

  /** Why a VM can't be snapshotted: the XenAPI error and a sentence for operators. */
  public record Blocker(XenApiException error, String reason) {}

  /**
   * Throws what blocks a snapshot of {@code vm}, if anything does.
   *
   * @throws XenApiException the blocker's error, or HANDLE_INVALID if {@code vm} does not exist
   */
  public void require(Ref<Vm> vm) throws XenApiException {
    Blocker b = check(vm);
    if (b != null) {
      throw b.error();
    }
  }

  /**
   * @return what blocks a snapshot of {@code vm}, or null if nothing does
   * @throws XenApiException HANDLE_INVALID if {@code vm} does not exist
   */
  public Blocker check(Ref<Vm> vm) throws XenApiException {
    Row<Vm> rec = db.read(Vm.CLASS, vm);
    if (rec.get(Vm.IS_A_SNAPSHOT)) {
      return new Blocker(
          new XenApiException(XenApiError.VM_IS_SNAPSHOT, vm.value()),
          "A snapshot can't be snapshotted.");
    }
    if (rec.get(Vm.IS_A_TEMPLATE)) {
      return new Blocker(
          new XenApiException(XenApiError.VM_IS_TEMPLATE, vm.value()),
          "A template can't be snapshotted: make a VM from it first.");
    }
    for (Ref<Vbd> vbd : rec.get(Vm.VBDS)) {
      Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
      if (b == null || !Vbd.isDisk(b) || !db.exists(Vdi.CLASS, b.get(Vbd.VDI))) {
        continue;
      }
      Blocker blocker = check(db.read(Vdi.CLASS, b.get(Vbd.VDI)));
      if (blocker != null) {
        return blocker;
      }
    }
    return null;
  }

  private Blocker check(Row<Vdi> d) throws XenApiException {
    String vdi = d.ref().value();
    String disk = "Disk '" + d.get(Vdi.NAME_LABEL) + "'";
    if (d.get(Vdi.SHARABLE)) {
      return new Blocker(
          new XenApiException(XenApiError.VDI_IS_SHARABLE, vdi),
          disk + " is sharable: sharable disks can't be snapshotted.");
    }
    if (d.get(Vdi.ON_BOOT) == OnBoot.RESET) {
      return new Blocker(
          new XenApiException(
              XenApiError.VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION, vdi, "reset", "snapshot"),
          disk + " is reset on boot: such disks can't be snapshotted.");
    }
    Ref<Sr> sr = d.get(Vdi.SR);
    String type = db.get(sr, Sr.TYPE);
    boolean can;
    try {
      can = storage.registry().driver(type).info().has(Capability.VDI_SNAPSHOT);
    } catch (SmException e) {
      can = false;
    }
    if (!can) {
      return new Blocker(
          new XenApiException(XenApiError.SR_OPERATION_NOT_SUPPORTED, sr.value()),
          disk
              + " is on SR '"
              + db.get(sr, Sr.NAME_LABEL)
              + "' (type "
              + type
              + "), whose driver can't snapshot disks.");
    }
    return null;
  }
}
