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
 */
final class LunDiff {
  private LunDiff() {}

  static BlockDiff between(PoolState s, Lun from, Lun to) {
    int granules = GranuleDigests.granuleCount(Lun.blockCount(to.sizeBytes, s.blockSize));
    BitSet changed =
        from.digests == null && to.digests == null
            ? byMaps(from.map, to.map, granules)
            : byDigests(s, from, to, granules);
    return new BlockDiff(GranuleDigests.GRANULE_BYTES, to.sizeBytes, changed);
  }

  private static BitSet byMaps(BlockMap a, BlockMap b, int granules) {
    BitSet changed = new BitSet(granules);
    int perChunk = BlockMap.CHUNK / GranuleDigests.GRANULE_BLOCKS; // chunks hold whole granules
    for (int c = 0; (long) c * perChunk < granules; c++) {
      int[] ca = c < a.chunkCount() ? a.chunk(c) : null;
      int[] cb = c < b.chunkCount() ? b.chunk(c) : null;
      if (ca == null && cb == null) {
        continue; // 256 MiB that neither LUN ever wrote
      }
      int last = Math.min(granules, (c + 1) * perChunk);
      for (int g = c * perChunk; g < last; g++) {
        for (int i = g * GranuleDigests.GRANULE_BLOCKS;
            i < (g + 1) * GranuleDigests.GRANULE_BLOCKS;
            i++) {
          if (entry(ca, a, i) != entry(cb, b, i)) {
            changed.set(g);
            break;
          }
        }
      }
    }
    return changed;
  }

  private static int entry(int[] chunk, BlockMap map, int index) {
    return chunk == null || index >= map.length() ? Lun.ZERO : chunk[index & (BlockMap.CHUNK - 1)];
  }

  private static BitSet byDigests(PoolState s, Lun from, Lun to, int granules) {
    BitSet changed = new BitSet(granules);
    GranuleDigests.Hasher hasher = new GranuleDigests.Hasher();
    byte[] a = new byte[GranuleDigests.DIGEST_BYTES];
    byte[] b = new byte[GranuleDigests.DIGEST_BYTES];
    for (int g = 0; g < granules; g++) {
      digest(s, from, g, hasher, a);
      digest(s, to, g, hasher, b);
      if (!Arrays.equals(a, b)) {
        changed.set(g);
      }
    }
    return changed;
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
