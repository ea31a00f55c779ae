package org.xsm.iscsi.control;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Map;

/**
 * A LUN as the array's control API describes it.
 *
 * @param id the array's UUID of the LUN
 * @param lun the SCSI LUN number on the array's single target
 * @param snapshotOf the LUN this one is a snapshot of, or null
 * @param cloneOf the LUN this one is a clone of, or null
 * @param created ISO-8601 creation time
 * @param allocatedBytes pool space this LUN references
 * @param metadata free-form string pairs kept with the LUN
 * @param dataDestroyed true once the LUN's data was destroyed (it keeps only what changed-block
 *     queries need); false from an array that predates data destroy
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Lun(
    String id,
    String name,
    int lun,
    long sizeBytes,
    boolean readOnly,
    String snapshotOf,
    String cloneOf,
    String created,
    long allocatedBytes,
    Map<String, String> metadata,
    boolean dataDestroyed) {
  public Lun {
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }
}
