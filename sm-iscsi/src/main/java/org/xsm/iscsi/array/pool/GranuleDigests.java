package org.xsm.iscsi.array.pool;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * What a LUN whose data was destroyed keeps for changed-block queries: one content digest per
 * granule of {@link #GRANULE_BLOCKS} pool blocks (64 KiB), and no pool block.
 *
 * <p>A granule's digest is the first {@value #DIGEST_BYTES} bytes of SHA-256 over the granule's
 * {@link #GRANULE_BLOCKS} block hashes in order (a block that reads as zeros, or lies past the end
 * of the LUN, contributes 32 zero bytes). It depends only on content: the pool's per-block SHA-256
 * is the hash of the bytes the block holds, so equal digests mean equal bytes (a SHA-256 collision
 * aside, which the pool's dedup already rules out), and block numbers, which are freed and reused,
 * play no part. A granule that reads as zeros has the all-zero digest (see {@link #isZero}).
 *
 * <p>Storage: chunks of {@value #CHUNK_GRANULES} digests (256 MiB of LUN in 64 KiB), null for a
 * chunk of zero granules: 16 bytes per 64 KiB of written LUN. Not thread-safe; the pool guards it.
 */
final class GranuleDigests {
  /** Pool blocks per granule: 64 KiB, the granularity of changed-block answers. */
  static final int GRANULE_BLOCKS = 16;

  static final int GRANULE_BYTES = GRANULE_BLOCKS * BlockPool.BLOCK_SIZE;
  static final int DIGEST_BYTES = 16;
  private static final int CHUNK_GRANULES = 4096;
  private static final byte[] NO_HASH = new byte[PoolState.HASH_BYTES];

  private final int granules;
  private final byte[][] chunks;

  private GranuleDigests(int granules) {
    this.granules = granules;
    this.chunks = new byte[(granules + CHUNK_GRANULES - 1) / CHUNK_GRANULES][];
  }

  /** Granules covering {@code blocks} pool blocks. */
  static int granuleCount(int blocks) {
    return (int) (((long) blocks + GRANULE_BLOCKS - 1) / GRANULE_BLOCKS);
  }

  int granules() {
    return granules;
  }

  /** The digests of a live LUN's content, from its map and the pool's block hashes. */
  static GranuleDigests of(BlockMap map, PoolState s) {
    GranuleDigests d = empty(map.length());
    d.compute(map, s, 0, d.granules, new Hasher());
    return d;
  }

  /** A table for a LUN of {@code blocks} pool blocks, every granule zero until computed. */
  static GranuleDigests empty(int blocks) {
    return new GranuleDigests(granuleCount(blocks));
  }

  /** Computes granules {@code [first, end)} from {@code map} and the pool's block hashes. */
  void compute(BlockMap map, PoolState s, int first, int end, Hasher h) {
    byte[] digest = new byte[DIGEST_BYTES];
    for (int g = first; g < end; g++) {
      byte[] c = chunks[g / CHUNK_GRANULES];
      if (h.digest(map, s, g, digest)) {
        if (c == null) {
          c = new byte[CHUNK_GRANULES * DIGEST_BYTES];
          chunks[g / CHUNK_GRANULES] = c;
        }
        System.arraycopy(digest, 0, c, (g % CHUNK_GRANULES) * DIGEST_BYTES, DIGEST_BYTES);
      } else if (c != null) {
        Arrays.fill(
            c,
            (g % CHUNK_GRANULES) * DIGEST_BYTES,
            (g % CHUNK_GRANULES + 1) * DIGEST_BYTES,
            (byte) 0);
      }
    }
  }

  /** Copies granule {@code g}'s digest to {@code out}; false (and zeros) for a zero granule. */
  boolean get(int g, byte[] out) {
    byte[] c = g < granules ? chunks[g / CHUNK_GRANULES] : null;
    if (c == null) {
      Arrays.fill(out, 0, DIGEST_BYTES, (byte) 0);
      return false;
    }
    System.arraycopy(c, (g % CHUNK_GRANULES) * DIGEST_BYTES, out, 0, DIGEST_BYTES);
    return !isZero(out);
  }

  static boolean isZero(byte[] digest) {
    for (int i = 0; i < DIGEST_BYTES; i++) {
      if (digest[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Computes granule digests of live maps; one per thread (it holds a SHA-256 engine). */
  static final class Hasher {
    private final MessageDigest sha;
    private final byte[] full = new byte[PoolState.HASH_BYTES];

    Hasher() {
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("the JDK always has SHA-256", e);
      }
    }

    /**
     * Granule {@code g}'s digest of {@code map} into {@code out}; false (and zeros) if the whole
     * granule reads as zeros, which costs no hashing.
     */
    boolean digest(BlockMap map, PoolState s, int g, byte[] out) {
      int first = g * GRANULE_BLOCKS;
      int end = Math.min(first + GRANULE_BLOCKS, map.length());
      boolean any = false;
      for (int i = first; i < end && !any; i++) {
        any = map.get(i) != Lun.ZERO;
      }
      if (!any) {
        Arrays.fill(out, 0, DIGEST_BYTES, (byte) 0);
        return false;
      }
      for (int i = first; i < first + GRANULE_BLOCKS; i++) {
        int b = i < end ? map.get(i) : Lun.ZERO;
        if (b == Lun.ZERO) {
          sha.update(NO_HASH);
        } else {
          sha.update(s.hashes, b * PoolState.HASH_BYTES, PoolState.HASH_BYTES);
        }
      }
      try {
        sha.digest(full, 0, full.length);
      } catch (DigestException e) {
        throw new IllegalStateException(e);
      }
      System.arraycopy(full, 0, out, 0, DIGEST_BYTES);
      if (isZero(out)) {
        out[0] = 1; // never confused with a zero granule (odds 2^-128, but keep it exact)
      }
      return true;
    }
  }

  /** Checkpoint encoding: int granule count, per chunk a written flag and its digests. */
  void write(DataOutput out) throws IOException {
    out.writeInt(granules);
    for (byte[] c : chunks) {
      out.writeBoolean(c != null);
      if (c != null) {
        out.write(c);
      }
    }
  }

  static GranuleDigests read(DataInput in, int expectedGranules) throws IOException {
    int n = in.readInt();
    if (n != expectedGranules) {
      throw new IOException(
          "digest table has " + n + " granules, the LUN's size needs " + expectedGranules);
    }
    GranuleDigests d = new GranuleDigests(n);
    for (int i = 0; i < d.chunks.length; i++) {
      if (in.readBoolean()) {
        d.chunks[i] = new byte[CHUNK_GRANULES * DIGEST_BYTES];
        in.readFully(d.chunks[i]);
      }
    }
    return d;
  }
}
