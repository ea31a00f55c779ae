package org.xsm.bench;

import java.util.BitSet;
import java.util.Random;
import java.util.zip.CRC32C;

/**
 * The content of the backup benchmark's disk, known without storing it: every 64 KiB block is
 * non-zero data from a 1 MiB random pool at an offset that depends on the block and its generation
 * (0 when first written, 1 once changed), stamped with both, so a block read from the wrong place
 * or of the wrong generation cannot match. Checks are CRC32C values computed here, untimed, and
 * compared with what a client computes on the fly.
 */
final class BackupImage {
  static final int BLOCK = 64 * 1024;
  private static final int POOL = 1 << 20;

  private final long sizeBytes;
  private final byte[] pool = new byte[POOL + BLOCK];
  private final BitSet changed = new BitSet();

  BackupImage(long sizeBytes, long seed) {
    if (sizeBytes % (2L << 20) != 0) {
      throw new IllegalArgumentException("the size must be a multiple of 2 MiB");
    }
    this.sizeBytes = sizeBytes;
    new Random(seed).nextBytes(pool);
  }

  long sizeBytes() {
    return sizeBytes;
  }

  int blocks() {
    return (int) (sizeBytes / BLOCK);
  }

  /** Blocks whose content is generation 1. */
  BitSet changed() {
    return (BitSet) changed.clone();
  }

  void markChanged(int fromBlock, int toBlockExclusive) {
    changed.set(fromBlock, toBlockExclusive);
  }

  /** Writes generation {@code gen} of block {@code block} into {@code dst} at {@code off}. */
  void block(int block, int gen, byte[] dst, int off) {
    long h = (block * 0x9E3779B97F4A7C15L) ^ (gen * 0xC2B2AE3D27D4EB4FL);
    h ^= h >>> 29;
    int from = (int) ((h & (POOL / 8 - 1)) * 8);
    System.arraycopy(pool, from, dst, off, BLOCK);
    for (int i = 0; i < 8; i++) {
      dst[off + i] = (byte) (block >>> (8 * i) | 1); // never a zero byte: the data is non-zero
      dst[off + 8 + i] = (byte) (0x5a + gen);
    }
  }

  /** The current content of {@code length} bytes at {@code offset} (block-aligned). */
  byte[] current(long offset, int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length / BLOCK; i++) {
      int blk = (int) (offset / BLOCK) + i;
      block(blk, changed.get(blk) ? 1 : 0, b, i * BLOCK);
    }
    return b;
  }

  static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  /** CRC32C of the whole current image and of each {@code chunk}-byte piece of it. */
  record Sums(long whole, int[] chunks) {}

  Sums sums(int chunk) {
    CRC32C whole = new CRC32C();
    int[] chunks = new int[(int) (sizeBytes / chunk)];
    for (int i = 0; i < chunks.length; i++) {
      byte[] b = current((long) i * chunk, chunk);
      whole.update(b);
      chunks[i] = crc(b, 0, chunk);
    }
    return new Sums(whole.getValue(), chunks);
  }
}
