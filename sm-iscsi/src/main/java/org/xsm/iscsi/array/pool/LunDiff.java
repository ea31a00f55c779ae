package org.xsm.iscsi.array.pool;

import java.util.Arrays;
import java.util.BitSet;

/**
 * The granules (64 KiB) whose content differs between two LUNs, computed from the pool's metadata
 * alone: no data is read and nothing is tracked per write.
 *
 * <p>Why it is right. Two cases, by what the LUNs still hold:
 *
 * <ul>
 *   <li>Both keep their data: a granule is unchanged iff every one of its blocks maps to the same
 *       pool block in both maps. Both maps hold a reference to that block at the time of the query,
 *       and a referenced block is never written (copy-on-write; a block is reused only after its
 *       last reference is gone), so it holds the same bytes for both. Different block numbers are
 *       reported as changed even when the bytes happen to be equal: the answer may over-report,
 *       never under-report.
 *   <li>Either one's data was destroyed: its blocks were released and may hold anything now, so
 *       block numbers say nothing. It kept a content digest per granule ({@link GranuleDigests},
 *       taken from the block hashes while its blocks were live); the other side's digest is
 *       computed the same way from its current map and block hashes, and a granule is unchanged iff
 *       the digests are equal, i.e. the bytes are (SHA-256).
 * </ul>
 *
 * Blocks past the end of the shorter LUN count as zeros (a grown LUN reads zeros there). The answer
 * covers {@code to}'s size.
 *
 * <p>The work goes in slices of {@link #SLICE_GRANULES} granules (256 MiB of LUN), each under the
 * pool lock, so that I/O waits for one slice at most, not for the whole LUN. Each granule's answer
 * is that of the moment its slice ran; for a read-only {@code to} (a snapshot, as backups use) that
 * is the answer.
 */
final class LunDiff {
  /** Granules per slice: those of one {@link BlockMap} chunk. */
  static final int SLICE_GRANULES = BlockMap.CHUNK / GranuleDigests.GRANULE_BLOCKS;

  private LunDiff() {}

  /** Granules of a LUN of {@code sizeBytes}. */
  static int granules(long sizeBytes, int blockSize) {
    return GranuleDigests.granuleCount(Lun.blockCount(sizeBytes, blockSize));
  }

  /** Adds the changed granules of slice {@code slice} (below {@code granules}) to {@code out}. */
  static void slice(
      PoolState s,
      Lun from,
      Lun to,
      int slice,
      int granules,
      BitSet out,
      GranuleDigests.Hasher hasher) {
    int first = slice * SLICE_GRANULES;
    int end = Math.min(granules, first + SLICE_GRANULES);
    if (from.digests == null && to.digests == null) {
      byMaps(from.map, to.map, slice, first, end, out);
    } else {
      byDigests(s, from, to, first, end, out, hasher);
    }
  }

  private static void byMaps(BlockMap a, BlockMap b, int chunk, int first, int end, BitSet out) {
    int[] ca = chunk < a.chunkCount() ? a.chunk(chunk) : null;
    int[] cb = chunk < b.chunkCount() ? b.chunk(chunk) : null;
    if (ca == null && cb == null) {
      return; // 256 MiB that neither LUN ever wrote
    }
    for (int g = first; g < end; g++) {
      for (int i = g * GranuleDigests.GRANULE_BLOCKS;
          i < (g + 1) * GranuleDigests.GRANULE_BLOCKS;
          i++) {
        if (entry(ca, a, i) != entry(cb, b, i)) {
          out.set(g);
          break;
        }
      }
    }
  }

  private static int entry(int[] chunk, BlockMap map, int index) {
    return chunk == null || index >= map.length() ? Lun.ZERO : chunk[index & (BlockMap.CHUNK - 1)];
  }

  private static void byDigests(
      PoolState s, Lun from, Lun to, int first, int end, BitSet out, GranuleDigests.Hasher h) {
    byte[] a = new byte[GranuleDigests.DIGEST_BYTES];
    byte[] b = new byte[GranuleDigests.DIGEST_BYTES];
    for (int g = first; g < end; g++) {
      digest(s, from, g, h, a);
      digest(s, to, g, h, b);
      if (!Arrays.equals(a, b)) {
        out.set(g);
      }
    }
  }

  private static void digest(
      PoolState s, Lun lun, int g, GranuleDigests.Hasher hasher, byte[] out) {
    if (lun.digests != null) {
      lun.digests.get(g, out);
    } else if (g < GranuleDigests.granuleCount(lun.map.length())) {
      hasher.digest(lun.map, s, g, out);
    } else {
      Arrays.fill(out, (byte) 0);
    }
  }
}
