package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import org.xsm.api.Capability;
import org.xsm.api.SmException;
import org.xsm.server.db.Database;
import org.xsm.server.rpc.XenApiException;
import org.xsm.server.storage.StorageService;

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
  @Inject StorageService storage;

  /** Why a VM can't be snapshotted: the XenAPI error and a sentence for operators. */
  public record Blocker(XenApiException error, String reason) {}

  /**
   * Throws what blocks a snapshot of {@code vm}, if anything does.
   *
   * @throws XenApiException the blocker's error, or HANDLE_INVALID if {@code vm} does not exist
   */
  public void require(String vm) throws XenApiException {
    Blocker b = check(vm);
    if (b != null) {
      throw b.error();
    }
  }

  /**
   * @return what blocks a snapshot of {@code vm}, or null if nothing does
   * @throws XenApiException HANDLE_INVALID if {@code vm} does not exist
   */
  public Blocker check(String vm) throws XenApiException {
    Map<String, Object> rec = db.record("VM", vm);
    if (Boolean.TRUE.equals(rec.get("is_a_snapshot"))) {
      return new Blocker(
          new XenApiException("VM_IS_SNAPSHOT", vm), "A snapshot can't be snapshotted.");
    }
    if (Boolean.TRUE.equals(rec.get("is_a_template"))) {
      return new Blocker(
          new XenApiException("VM_IS_TEMPLATE", vm),
          "A template can't be snapshotted: make a VM from it first.");
    }
    for (String vbd : db.find("VBD", f -> vm.equals(f.get("VM")))) {
      Map<String, Object> b = db.record("VBD", vbd);
      String vdi = (String) b.get("VDI");
      if (!"Disk".equals(b.get("type"))
          || Boolean.TRUE.equals(b.get("empty"))
          || !db.exists("VDI", vdi)) {
        continue;
      }
      Map<String, Object> d = db.record("VDI", vdi);
      String disk = "Disk '" + d.get("name_label") + "'";
      if (Boolean.TRUE.equals(d.get("sharable"))) {
        return new Blocker(
            new XenApiException("VDI_IS_SHARABLE", vdi),
            disk + " is sharable: sharable disks can't be snapshotted.");
      }
      if ("reset".equals(d.get("on_boot"))) {
        return new Blocker(
            new XenApiException(
                "VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION", vdi, "reset", "snapshot"),
            disk + " is reset on boot: such disks can't be snapshotted.");
      }
      String sr = (String) d.get("SR");
      String type = String.valueOf(db.field("SR", sr, "type"));
      boolean can;
      try {
        can = storage.registry().driver(type).info().has(Capability.VDI_SNAPSHOT);
      } catch (SmException e) {
        can = false;
      }
      if (!can) {
        return new Blocker(
            new XenApiException("SR_OPERATION_NOT_SUPPORTED", sr),
            disk
                + " is on SR '"
                + db.field("SR", sr, "name_label")
                + "' (type "
                + type
                + "), whose driver can't snapshot disks.");
      }
    }
    return null;
  }
}
