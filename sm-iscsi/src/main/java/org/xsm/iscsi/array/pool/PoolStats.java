package org.xsm.iscsi.array.pool;

/**
 * Space accounting of the pool.
 *
 * @param blockSizeBytes size of one pool block
 * @param capacityBytes the configured pool capacity
 * @param physicalUsedBytes bytes of pool blocks holding data (shared blocks counted once)
 * @param freeBytes capacity minus physical use
 * @param logicalBytes bytes the LUNs map, a shared block counted once per reference
 * @param dedupRatio logical / physical (1.0 on an empty pool)
 * @param lunCount number of LUNs
 */
public record PoolStats(
    int blockSizeBytes,
    long capacityBytes,
    long physicalUsedBytes,
    long freeBytes,
    long logicalBytes,
    double dedupRatio,
    int lunCount) {}
