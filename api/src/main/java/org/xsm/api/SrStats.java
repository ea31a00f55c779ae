package org.xsm.api;

/**
 * Space figures of an SR, as xapi's SR fields name them.
 *
 * @param physicalSizeBytes capacity of the storage ({@code physical_size})
 * @param physicalUtilisationBytes space used ({@code physical_utilisation})
 * @param virtualAllocationBytes sum of the virtual sizes of the managed VDIs ({@code
 *     virtual_allocation})
 */
public record SrStats(
    long physicalSizeBytes, long physicalUtilisationBytes, long virtualAllocationBytes) {}
