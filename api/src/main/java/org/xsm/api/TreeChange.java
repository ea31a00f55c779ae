package org.xsm.api;

import java.util.List;
import java.util.Objects;

/**
 * What one tree-changing operation (snapshot, clone) did to an SR, so a caller can update its own
 * records of the SR without scanning it.
 *
 * @param vdi the new VDI (the snapshot or clone), as {@link Sr#scan} would report it now
 * @param changed every other VDI of the SR that appeared or whose {@link VdiInfo} changed, as
 *     {@code scan} would report it now: for a VHD-tree SR, the new hidden base copy and the leaf
 *     (now a child of that base). Empty when nothing else changed, or when the driver cannot tell
 *     (the defaults of {@link Sr#snapshotChange} and {@link Sr#cloneChange}), in which case a
 *     caller that needs exact figures scans.
 */
public record TreeChange(VdiInfo vdi, List<VdiInfo> changed) {
  public TreeChange {
    Objects.requireNonNull(vdi, "vdi");
    changed = List.copyOf(changed);
  }
}
