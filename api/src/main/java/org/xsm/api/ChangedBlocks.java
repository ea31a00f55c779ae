package org.xsm.api;

import java.util.BitSet;

/**
 * Blocks of a VDI that changed between two snapshots (CBT): bit {@code i} covers bytes {@code [i *
 * blockSizeBytes, (i + 1) * blockSizeBytes)}.
 */
public record ChangedBlocks(int blockSizeBytes, long virtualSizeBytes, BitSet changed) {
  public ChangedBlocks {
    changed = (BitSet) changed.clone();
  }

  @Override
  public BitSet changed() {
    return (BitSet) changed.clone();
  }
}
