package org.xsm.iscsi.control;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** The array's shared copy-on-write pool, as {@code GET /api/v1/pool} reports it. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PoolStats(
    long blockSizeBytes,
    long capacityBytes,
    long physicalUsedBytes,
    long freeBytes,
    long logicalBytes,
    double dedupRatio,
    int lunCount) {}
