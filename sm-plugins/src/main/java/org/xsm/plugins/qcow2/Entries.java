package org.xsm.plugins.qcow2;

/** The bits of L1 and L2 entries (standard clusters; extended L2 entries are refused on open). */
final class Entries {
  private Entries() {}

  /** Bits 9..55: a host offset. */
  static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;

  /** Bit 63: the refcount is exactly one (the cluster may be written in place). */
  static final long COPIED = 1L << 63;

  /** Bit 62: a compressed cluster. */
  static final long COMPRESSED = 1L << 62;

  /** Bit 0 of a standard L2 entry: the cluster reads as zeros. */
  static final long ZERO = 1;

  private static final long STANDARD_RESERVED = ~(OFFSET_MASK | COPIED | COMPRESSED | ZERO);

  static boolean isCompressed(long e) {
    return (e & COMPRESSED) != 0;
  }

  static boolean isZero(long e) {
    return !isCompressed(e) && (e & ZERO) != 0;
  }

  /** A data cluster (not zero, not compressed) with a host offset. */
  static boolean isData(long e) {
    return !isCompressed(e) && (e & ZERO) == 0 && (e & OFFSET_MASK) != 0;
  }

  /** Neither data nor zero: the cluster reads from the backing file. */
  static boolean isUnallocated(long e) {
    return (e & ~COPIED) == 0;
  }

  static long hostOffset(long e) {
    return e & OFFSET_MASK;
  }

  /** Bits of the host offset of a compressed cluster descriptor. */
  static int compressedOffsetBits(int clusterBits) {
    return 62 - (clusterBits - 8);
  }

  static long compressedOffset(long e, int clusterBits) {
    return e & ((1L << compressedOffsetBits(clusterBits)) - 1);
  }

  /** Bytes a compressed cluster's data may span from its offset. */
  static int compressedBytes(long e, int clusterBits) {
    int x = compressedOffsetBits(clusterBits);
    long sectors = ((e & ~COMPRESSED) >>> x) + 1;
    return (int) (sectors * 512 - (compressedOffset(e, clusterBits) & 511));
  }

  /** What is wrong with an L2 entry, or null if nothing. */
  static String problem(long e, int clusterBits, long fileSize) {
    if (isCompressed(e)) {
      if ((e & COPIED) != 0) {
        return "compressed cluster with the copied flag";
      }
      long off = compressedOffset(e, clusterBits);
      if (off >= fileSize) {
        return "compressed data at 0x" + Long.toHexString(off) + " past the file end " + fileSize;
      }
      return null;
    }
    if ((e & STANDARD_RESERVED) != 0) {
      return "reserved bits set in 0x" + Long.toHexString(e);
    }
    long off = e & OFFSET_MASK;
    if ((off & ((1L << clusterBits) - 1)) != 0) {
      return "unaligned cluster offset 0x" + Long.toHexString(off);
    }
    // A data cluster may end past the file end (the rest reads as zeros), but not start there.
    if (off != 0 && off >= fileSize) {
      return "cluster 0x" + Long.toHexString(off) + " past the file end " + fileSize;
    }
    return null;
  }
}
