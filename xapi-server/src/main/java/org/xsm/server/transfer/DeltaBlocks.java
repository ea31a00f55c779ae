package org.xsm.server.transfer;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;
import java.util.function.LongConsumer;
import org.xsm.api.ChangedBlocks;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.plugins.vhd.DynamicHeader;

/**
 * Which 2 MiB blocks an export sends: the allocated ones (a full export), those that differ from a
 * base read block by block, or those CBT reports changed since the base. Only a bit set is kept,
 * never data.
 */
public final class DeltaBlocks {
  public static final int BLOCK_BYTES = DynamicHeader.DEFAULT_BLOCK_SIZE;

  private DeltaBlocks() {}

  static int blockCount(long sizeBytes) {
    return (int) ((sizeBytes + BLOCK_BYTES - 1) / BLOCK_BYTES);
  }

  /** 2 MiB blocks that may hold data, from the device's own allocation granularity. */
  public static BitSet allocated(VdiDevice d) throws SmException {
    return regroup(d.allocatedBlocks(), d.allocationBlockSizeBytes(), d.sizeBytes());
  }

  /** CBT's changed blocks regrouped to 2 MiB blocks of a disk of {@code sizeBytes}. */
  static BitSet fromCbt(ChangedBlocks cb, long sizeBytes) {
    return regroup(cb.changed(), cb.blockSizeBytes(), sizeBytes);
  }

  /**
   * Parts of 2 MiB blocks that changed, at CBT's granularity: a block with granules holds data only
   * there (a differencing VHD marks just those sectors); a granularity that does not divide a block
   * into whole sectors gives none, and whole blocks are sent.
   */
  record Granules(BitSet changed, int granuleBytes) {
    static Granules of(ChangedBlocks cb) {
      int g = cb.blockSizeBytes();
      boolean usable = g >= 512 && g % 512 == 0 && g < BLOCK_BYTES && BLOCK_BYTES % g == 0;
      return usable ? new Granules(cb.changed(), g) : null;
    }

    /** Granules per 2 MiB block. */
    int perBlock() {
      return BLOCK_BYTES / granuleBytes;
    }

    /** The changed granules of block {@code block}, numbered from 0 within it. */
    BitSet inBlock(int block) {
      int first = block * perBlock();
      return changed.get(first, first + perBlock());
    }
  }

  private static BitSet regroup(BitSet granules, long g, long sizeBytes) {
    BitSet out = new BitSet();
    int count = blockCount(sizeBytes);
    for (int j = granules.nextSetBit(0); j >= 0; j = granules.nextSetBit(j + 1)) {
      long first = (long) j * g / BLOCK_BYTES;
      long last = ((long) (j + 1) * g - 1) / BLOCK_BYTES;
      if (first >= count) {
        break;
      }
      out.set((int) first, (int) Math.min(last, count - 1) + 1);
    }
    return out;
  }

  /** Blocks allocated in either device whose contents differ; both devices are read whole. */
  public static BitSet differing(VdiDevice d, VdiDevice base, BitSet mine, LongConsumer progress)
      throws SmException {
    BitSet candidates = (BitSet) mine.clone();
    candidates.or(allocated(base));
    BitSet out = new BitSet();
    ByteBuffer a = ByteBuffer.allocate(BLOCK_BYTES);
    ByteBuffer b = ByteBuffer.allocate(BLOCK_BYTES);
    long done = 0;
    for (int i = candidates.nextSetBit(0); i >= 0; i = candidates.nextSetBit(i + 1)) {
      long off = (long) i * BLOCK_BYTES;
      int len = (int) Math.min(BLOCK_BYTES, d.sizeBytes() - off);
      a.clear().limit(len);
      b.clear().limit(len);
      d.read(a, off);
      base.read(b, off);
      if (!Arrays.equals(a.array(), 0, len, b.array(), 0, len)) {
        out.set(i);
      }
      progress.accept(++done * BLOCK_BYTES);
    }
    return out;
  }
}
