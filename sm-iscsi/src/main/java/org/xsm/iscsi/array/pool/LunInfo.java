package org.xsm.iscsi.array.pool;

import java.time.Instant;
import java.util.Map;

/**
 * An immutable view of one LUN, as the control API and the SCSI layer see it.
 *
 * @param id stable identifier (a UUID), also the VPD 0x80 serial number
 * @param name free-form name
 * @param lun SCSI LUN number on the array's single target; never reused while the pool lives
 * @param sizeBytes capacity, a multiple of 512
 * @param readOnly true for snapshots: SCSI writes fail with DATA PROTECT
 * @param snapshotOf the LUN this is a snapshot of, or null
 * @param cloneOf the LUN this is a clone of, or null
 * @param created creation time
 * @param allocatedBytes bytes of pool blocks this LUN maps (shared blocks counted in full)
 * @param metadata caller's key/value pairs
 * @param dataDestroyed true once the LUN's data was destroyed: it keeps only what changed-block
 *     queries need, holds no pool block and is not on the target
 */
public record LunInfo(
    String id,
    String name,
    int lun,
    long sizeBytes,
    boolean readOnly,
    String snapshotOf,
    String cloneOf,
    Instant created,
    long allocatedBytes,
    Map<String, String> metadata,
    boolean dataDestroyed) {}
