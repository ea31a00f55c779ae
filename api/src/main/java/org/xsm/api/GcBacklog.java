package org.xsm.api;

/**
 * What an SR's garbage collector still has to do, as last measured (at the SR's latest stats, scan
 * or collector step), for operators: reclaimable space and the work before it is back.
 *
 * @param reclaimableBytes space the collector can give back: garbage files, plus the nodes it will
 *     merge away (an upper bound: a merged node's data that its parent did not hold yet stays)
 * @param backlogBytes bytes the collector still has to copy to get there
 * @param chains VDI chains it can shorten (a hidden node it can merge, or a leaf it can
 *     leaf-coalesce)
 * @param garbageFiles hidden nodes no VDI needs, waiting to be deleted
 * @param longestChain the deepest chain on the SR (files from a leaf to its root)
 * @param etaSeconds estimated seconds until the backlog is done at the collector's configured copy
 *     rate; 0 when there is nothing to do, negative when the collector is disabled
 */
public record GcBacklog(
    long reclaimableBytes,
    long backlogBytes,
    int chains,
    int garbageFiles,
    int longestChain,
    long etaSeconds) {

  /** Nothing to do (or no collector). */
  public static final GcBacklog NONE = new GcBacklog(0, 0, 0, 0, 0, 0);

  /** Whether the collector has nothing left to do. */
  public boolean isEmpty() {
    return reclaimableBytes == 0 && backlogBytes == 0 && chains == 0 && garbageFiles == 0;
  }
}
