package org.xsm.api;

import java.util.Map;

/**
 * What the SR knows of one VDI: returned by create, snapshot, clone, resize and scan.
 *
 * @param uuid the VDI's UUID
 * @param location where the SR keeps it (for VHD-tree SRs, the UUID)
 * @param virtualSizeBytes the disk size a VM sees
 * @param physicalUtilisationBytes space it uses on the SR
 * @param readOnly true for base copies and snapshots
 * @param managed false for hidden nodes (base copies) that only the SR uses
 * @param smConfig e.g. {@code vhd-parent}, {@code vdi_type}
 * @param metadata name and snapshot links kept on the SR, or null if none were stored
 * @param cbtEnabled whether changed-block tracking is on
 */
public record VdiInfo(
    String uuid,
    String location,
    long virtualSizeBytes,
    long physicalUtilisationBytes,
    boolean readOnly,
    boolean managed,
    Map<String, String> smConfig,
    VdiMetadata metadata,
    boolean cbtEnabled) {

  public VdiInfo {
    smConfig = Map.copyOf(smConfig);
  }
}
