package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.Map;
import java.util.UUID;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.image.ImageFormat;

/**
 * Creating, deleting and resizing a VDI of a {@link FileSr}: each a {@link FileSr#managed}
 * operation that updates the SR's model after its durable steps.
 */
final class VdiLifecycle {
  private VdiLifecycle() {}

  /**
   * The image format comes from {@code sm_config:image-format}, else the SR's {@code
   * device_config:preferred-image-formats} (first entry), else the size: qcow2 above 2040 GiB, VHD
   * below ({@link ImageFormat#choose}).
   */
  static VdiInfo createVdi(
      FileSr sr, long sizeBytes, VdiMetadata metadata, Map<String, String> smConfig)
      throws SmException {
    ImageFormat format;
    try {
      format =
          ImageFormat.choose(
              java.util.Optional.ofNullable(smConfig.get(ImageFormat.SM_CONFIG_KEY))
                  .or(() -> sr.preferredFormat),
              sizeBytes);
    } catch (IllegalArgumentException e) {
      throw new SmException(SmError.VDI_CREATE, e.getMessage());
    }
    if (sizeBytes <= 0 || sizeBytes > format.maxSizeBytes()) {
      throw new SmException(
          SmError.VDI_SIZE,
          "VDI size "
              + sizeBytes
              + " is outside 1.."
              + format.maxSizeBytes()
              + " bytes for image format "
              + format.wireName());
    }
    return sr.managed(
        () -> {
          String u = UUID.randomUUID().toString();
          try {
            sr.modelTree(); // built before the new files appear, so they are counted once
            sr.writeMeta(u, metadata, false);
            String file = VhdTree.fileOf(u, format);
            format.create(sr.store, file, sizeBytes);
            sr.model.putVhd(
                u, format, null, false, format.summary(sr.store, file).virtualSizeBytes());
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.VDI_CREATE, "create of a VDI on SR " + sr.uuid());
          }
          return sr.info(sr.existing(u), false);
        });
  }

  static void deleteVdi(FileSr sr, String location) throws SmException {
    sr.managed(
        () -> {
          if (sr.attached.containsKey(location)) {
            throw new SmException(SmError.VDI_IN_USE, "VDI " + location + " is attached");
          }
          VhdTree.Node n = location == null ? null : sr.modelTree().get(location);
          try {
            if (n == null) {
              if (location != null && sr.store.exists(CbtLog.fileOf(location))) {
                Cbt.foldIntoSuccessors(sr.store, location);
                sr.store.delete(CbtLog.fileOf(location));
                PropertiesFile.deleteIfExists(sr.store, FileSr.metaFileOf(location));
                sr.model.removeMeta(location);
                sr.store.syncMetadata();
                return null;
              }
              throw new SmException(
                  SmError.VDI_MISSING, "VDI " + location + " is not on SR " + sr.uuid());
            }
            if (n.hidden) {
              throw new SmException(
                  SmError.VDI_DELETE,
                  "VDI " + location + " is a base copy; it is removed when its children are");
            }
            Cbt.foldIntoSuccessors(sr.store, n.uuid);
            if (!n.isLeaf()) {
              // Other VDIs read through this one (clones of a snapshot): it becomes a hidden base
              // copy under a fresh UUID, so the deleted VDI's UUID does not come back from scan.
              HiddenRename.run(sr, n);
              sr.model.invalidate(); // rare (a snapshot with clones): rebuilt at the next use
            } else {
              // The data goes first: a crash then leaves at worst a stray metadata file.
              sr.store.delete(n.file());
              sr.store.syncMetadata();
              sr.model.removeVhd(n.uuid);
            }
            PropertiesFile.deleteIfExists(sr.store, FileSr.metaFileOf(n.uuid));
            sr.model.removeMeta(n.uuid);
            PropertiesFile.deleteIfExists(sr.store, CbtLog.fileOf(n.uuid));
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.VDI_DELETE, "delete of VDI " + location);
          }
          sr.kickGc();
          return null;
        });
  }

  static VdiInfo resize(FileSr sr, String location, long newSizeBytes) throws SmException {
    return sr.managed(
        () -> {
          VhdTree.Node n = sr.existing(location);
          if (sr.attached.containsKey(location)) {
            throw new SmException(SmError.VDI_IN_USE, "VDI " + location + " is attached");
          }
          if (sr.info(n, false).readOnly()) {
            throw new SmException(
                SmError.VDI_RESIZE, "VDI " + location + " is read-only (a snapshot or base copy)");
          }
          if (newSizeBytes < n.virtualSizeBytes) {
            throw new SmException(
                SmError.VDI_SIZE,
                "VDI "
                    + location
                    + " cannot shrink from "
                    + n.virtualSizeBytes
                    + " to "
                    + newSizeBytes
                    + " bytes");
          }
          if (newSizeBytes > n.format.maxSizeBytes()) {
            throw new SmException(
                SmError.VDI_SIZE,
                "VDI "
                    + location
                    + " is a "
                    + n.format.wireName()
                    + " image, which cannot exceed "
                    + n.format.maxSizeBytes()
                    + " bytes ("
                    + (n.format.maxSizeBytes() >> 30)
                    + " GiB); asked for "
                    + newSizeBytes
                    + (n.format == ImageFormat.VHD
                        ? ". Disks past 2 TiB need a qcow2 VDI (sm_config image-format=qcow2):"
                            + " create one and copy this disk into it"
                        : ""));
          }
          try {
            // A CBT log covers the disk's size: it grows first (found by the soak: changes past the
            // old size were tracked nowhere), so no crash leaves the disk larger than its log.
            CbtLog log = CbtLog.read(sr.store, n.uuid);
            if (log != null && log.virtualSizeBytes < newSizeBytes) {
              new CbtLog(log.parent, newSizeBytes, log.consistent, log.changed)
                  .write(sr.store, n.uuid);
            }
            n.format.resize(sr.store, n.file(), newSizeBytes);
            long virtual = n.format.summary(sr.store, n.file()).virtualSizeBytes();
            if (log != null && virtual > newSizeBytes) {
              new CbtLog(log.parent, virtual, log.consistent, log.changed).write(sr.store, n.uuid);
            }
            sr.model.putVhd(n.uuid, n.format, n.parentUuid, n.hidden, virtual);
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.VDI_RESIZE, "resize of VDI " + location);
          }
          return sr.info(sr.existing(location));
        });
  }
}
