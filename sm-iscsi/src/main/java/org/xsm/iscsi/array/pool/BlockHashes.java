package org.xsm.iscsi.array.pool;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.stream.IntStream;

/**
 * SHA-256 and all-zero flags of the pool blocks a write covers in full, computed before the pool
 * lock is taken (in parallel for large writes). Entry {@code i} is the i-th pool block the write
 * touches; blocks only partly covered have no entry (they need their old content).
 */
final class BlockHashes {
  private static final int PARALLEL_FROM = 32;
  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("the JDK always has SHA-256", e);
            }
          });

  private final byte[] hashes;
  private final boolean[] zero;

  private BlockHashes(int count) {
    hashes = new byte[count * PoolState.HASH_BYTES];
    zero = new boolean[count];
  }

  static BlockHashes of(long offset, byte[] src, int srcOff, int len, int blockSize) {
    if (len <= 0) {
      return null;
    }
    long first = offset / blockSize;
    int count = (int) ((offset + len - 1) / blockSize - first + 1);
    BlockHashes h = new BlockHashes(count);
    byte[] zeros = new byte[blockSize];
    IntStream range = IntStream.range(0, count);
    (count >= PARALLEL_FROM ? range.parallel() : range)
        .forEach(
            i -> {
              long start = (first + i) * blockSize;
              if (start < offset || start + blockSize > offset + len) {
                return; // partly covered: hashed under the lock with its old content
              }
              int at = srcOff + (int) (start - offset);
              if (java.util.Arrays.mismatch(src, at, at + blockSize, zeros, 0, blockSize) == -1) {
                h.zero[i] = true;
                return;
              }
              MessageDigest sha = SHA256.get();
              sha.update(src, at, blockSize);
              try {
                sha.digest(h.hashes, i * PoolState.HASH_BYTES, PoolState.HASH_BYTES);
              } catch (java.security.DigestException e) {
                throw new IllegalStateException(e);
              }
            });
    return h;
  }

  boolean zero(int i) {
    return zero[i];
  }

  void copyHash(int i, byte[] dst) {
    System.arraycopy(hashes, i * PoolState.HASH_BYTES, dst, 0, PoolState.HASH_BYTES);
  }
}
