package org.xsm.iscsi.array.pool;

import java.util.BitSet;

/**
 * The answer to a changed-block query: bit {@code i} of {@code changed} set if bytes {@code [i *
 * granuleBytes, (i + 1) * granuleBytes)} of the later LUN may differ from the earlier one's; a
 * clear bit means the bytes are equal.
 *
 * @param granuleBytes bytes per bit (64 KiB)
 * @param sizeBytes size of the later LUN, which the bitmap covers
 * @param changed the changed granules
 */
public record BlockDiff(int granuleBytes, long sizeBytes, BitSet changed) {
  public BlockDiff {
    changed = (BitSet) changed.clone();
  }

  @Override
  public BitSet changed() {
    return (BitSet) changed.clone();
  }

  /** Number of granules the bitmap covers. */
  public int granules() {
    return (int) ((sizeBytes + granuleBytes - 1) / granuleBytes);
  }
}
