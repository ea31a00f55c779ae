package org.xsm.api;

/**
 * Cumulative figures of an SR's garbage collector since the SR was attached, for metrics and the
 * console. Immutable; {@link #NONE} for SRs without a collector.
 *
 * @param runs collection passes finished
 * @param garbageDeleted hidden nodes nothing needed any more, deleted
 * @param coalesced hidden nodes merged into their parent
 * @param leafCoalesced VDIs whose leaf was merged into its parent (the VDI's chain got shorter)
 * @param bytesCopied bytes copied by coalesces of both kinds
 * @param noSpace coalesces skipped for lack of free space
 * @param leafPausesOverBudget final leaf-coalesce switches that kept a VDI's I/O paused for longer
 *     than the pause budget (100 ms)
 * @param longestPauseMillis the longest pause of a VDI's I/O by a final leaf-coalesce switch
 */
public record GcCounters(
    long runs,
    long garbageDeleted,
    long coalesced,
    long leafCoalesced,
    long bytesCopied,
    long noSpace,
    long leafPausesOverBudget,
    long longestPauseMillis) {

  /** All zero: an SR without a collector, or one that has not run. */
  public static final GcCounters NONE = new GcCounters(0, 0, 0, 0, 0, 0, 0, 0);
}
