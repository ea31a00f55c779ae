package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.plugins.store.DiskChain;

/**
 * Attaching and activating the VDIs of a {@link FileSr} (its attachment table, guarded by the SR
 * lock), and activation from a config string made by {@link FileSr#generateConfig}.
 */
final class VdiAttachments {
  private VdiAttachments() {}

  static void attachVdi(FileSr sr, String location, boolean writable) throws SmException {
    sr.managed(
        () -> {
          VhdTree.Node n = sr.existing(location);
          if (sr.attached.containsKey(location)) {
            throw new SmException(SmError.VDI_IN_USE, "VDI " + location + " is already attached");
          }
          VdiInfo vi = sr.info(n, false);
          if (writable && vi.readOnly()) {
            throw new SmException(
                SmError.VDI_UNAVAILABLE,
                "VDI "
                    + location
                    + (n.hidden ? " is a base copy" : " is a snapshot")
                    + " and can only be sr.attached read-only");
          }
          try (DiskChain c = n.format.open(sr.store, n.file(), false)) {
            c.depth();
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.VDI_LOAD, "attach of VDI " + location);
          }
          sr.attached.put(location, new FileSr.Attachment(writable));
          return null;
        });
  }

  static VdiDevice activateVdi(FileSr sr, String location) throws SmException {
    return sr.managed(
        () -> {
          FileSr.Attachment a = sr.attached.get(location);
          if (a == null) {
            throw new SmException(
                SmError.BAD_REQUEST, "VDI " + location + " must be sr.attached before activation");
          }
          if (a.device == null) {
            try {
              a.device =
                  VhdVdiDevice.open(
                      sr.store, sr.existing(location), !a.writable, sr::noteForeground);
              LeafWriteTracker t = sr.gcMeters().tracker(location);
              if (t != null) {
                t.disturb(); // a leaf-coalesce copying from the file does not see this device
              }
            } catch (IOException e) {
              throw SmErrors.of(e, SmError.VDI_UNAVAILABLE, "activate of VDI " + location);
            }
          }
          return a.device;
        });
  }

  static void deactivateVdi(FileSr sr, String location) throws SmException {
    sr.locked(
        () -> {
          FileSr.Attachment a = sr.attached.get(location);
          if (a != null && a.device != null) {
            try {
              a.device.close();
            } catch (IOException e) {
              throw SmErrors.of(e, SmError.EIO, "deactivate of VDI " + location);
            } finally {
              a.device = null;
            }
          }
          return null;
        });
  }

  static void detachVdi(FileSr sr, String location) throws SmException {
    sr.deactivateVdi(location);
    sr.locked(() -> sr.attached.remove(location));
  }

  static String generateConfig(FileSr sr, String location) throws SmException {
    return sr.managed(
        () -> {
          sr.existing(location);
          return "xsm-vdi-config:v1;sr=" + sr.uuid() + ";vdi=" + location;
        });
  }

  static VdiDevice activateFromConfig(FileSr sr, String config) throws SmException {
    Map<String, String> kv = new HashMap<>();
    String prefix = "xsm-vdi-config:v1;";
    if (config == null || !config.startsWith(prefix)) {
      throw new SmException(SmError.BAD_REQUEST, "not a VDI config of this driver: " + config);
    }
    for (String part : config.substring(prefix.length()).split(";")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        kv.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    if (!sr.uuid().equals(kv.get("sr"))) {
      throw new SmException(
          SmError.BAD_REQUEST, "VDI config is for SR " + kv.get("sr") + ", not " + sr.uuid());
    }
    String location = kv.get("vdi");
    sr.attachVdi(location, !sr.managed(() -> sr.info(sr.existing(location), false)).readOnly());
    return sr.activateVdi(location);
  }
}
