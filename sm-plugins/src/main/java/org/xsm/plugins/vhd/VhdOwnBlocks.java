package org.xsm.plugins.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;

/**
 * What one VHD file holds itself, without its parents: the sectors each allocated block marks
 * present and the bytes of its data area. Used to apply a differencing VHD (a delta) onto a disk
 * that holds its base: exactly the present sectors are written, the others left as they are.
 *
 * <p>Thread-safety: as the {@link VhdImage} read.
 */
public final class VhdOwnBlocks {
  private VhdOwnBlocks() {}

  /**
   * The sectors of {@code block} that the file marks present (bit {@code i}: sector {@code i} of
   * the block); every sector for a fixed disk, none for an unallocated block.
   */
  public static BitSet presentSectors(VhdImage img, int block) throws IOException {
    int sectors = img.blockSize() / 512;
    BitSet out = new BitSet(sectors);
    if (!img.isAllocated(block)) {
      return out;
    }
    if (img.isFixed()) {
      out.set(0, sectors);
      return out;
    }
    byte[] bitmap = img.bitmap(block);
    for (int i = 0; i < sectors; i++) {
      if ((bitmap[i >>> 3] & (0x80 >>> (i & 7))) != 0) {
        out.set(i);
      }
    }
    return out;
  }

  /**
   * Reads {@code dst.remaining()} bytes of {@code block}'s data area from {@code offsetInBlock}, as
   * stored in this file (sectors not present read as whatever the file holds there).
   *
   * @throws IllegalArgumentException if the block is not allocated or the range leaves it
   */
  public static void readOwn(VhdImage img, int block, int offsetInBlock, ByteBuffer dst)
      throws IOException {
    if (!img.isAllocated(block)) {
      throw new IllegalArgumentException("block " + block + " is not allocated");
    }
    if (offsetInBlock < 0 || offsetInBlock + (long) dst.remaining() > img.blockSize()) {
      throw new IllegalArgumentException("range leaves block " + block);
    }
    img.readFile(dst, img.dataOffset(block) + offsetInBlock);
  }

  /**
   * Seconds since 2000-01-01 UTC (the VHD epoch) for a Unix time in seconds, clamped to 32 bits.
   */
  public static long vhdTimestamp(long unixSeconds) {
    return Math.max(0, Math.min(0xffffffffL, unixSeconds - Be.VHD_EPOCH_UNIX_SECONDS));
  }
}
