package org.xsm.plugins.qcow2;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decoding and validation of a qcow2 header ({@link Qcow2Header#decode}): one precise message per
 * failure (magic, version, cluster_bits 9..21, encryption, L1/refcount table placement,
 * incompatible features, refcount_order, header_length, extension bounds, backing name and format).
 */
final class HeaderDecoding {
  private HeaderDecoding() {}

  /** See {@link Qcow2Header#decode}. */
  static Qcow2Header decode(byte[] head, long fileSize, String where) throws Qcow2FormatException {
    if (head.length < 104) {
      throw Qcow2Header.bad(
          where, "file of " + fileSize + " bytes is too short for a qcow2 header");
    }
    ByteBuffer b = ByteBuffer.wrap(head);
    int magic = b.getInt(0);
    if (magic != Qcow2Header.MAGIC) {
      throw Qcow2Header.bad(
          where, "bad magic 0x" + Integer.toHexString(magic) + ", expected 0x514649fb");
    }
    int version = b.getInt(4);
    if (version != 3) {
      throw Qcow2Header.bad(
          where,
          "qcow2 version "
              + version
              + " is not supported (only version 3; convert with qemu-img amend -o compat=1.1)");
    }
    long backingOffset = b.getLong(8);
    int backingSize = b.getInt(16);
    int clusterBits = b.getInt(20);
    if (clusterBits < 9 || clusterBits > 21) {
      throw Qcow2Header.bad(where, "cluster_bits " + clusterBits + " is outside 9..21");
    }
    long cs = 1L << clusterBits;
    long size = b.getLong(24);
    if (size < 0) {
      throw Qcow2Header.bad(where, "virtual size " + Long.toUnsignedString(size) + " is too large");
    }
    int crypt = b.getInt(32);
    if (crypt != 0) {
      throw Qcow2Header.bad(
          where, "encrypted images are not supported (crypt_method " + crypt + ")");
    }
    int l1Size = b.getInt(36);
    long l1Offset = b.getLong(40);
    if (l1Size < 0 || l1Size < Qcow2Header.l1EntriesFor(size, clusterBits)) {
      throw Qcow2Header.bad(
          where,
          "L1 table of "
              + Integer.toUnsignedString(l1Size)
              + " entries is too small for "
              + size
              + " bytes (needs "
              + Qcow2Header.l1EntriesFor(size, clusterBits)
              + ")");
    }
    checkTable(where, "L1 table", l1Offset, (long) l1Size * 8, cs, fileSize);
    long rtOffset = b.getLong(48);
    int rtClusters = b.getInt(56);
    if (rtClusters <= 0 || rtClusters > (1 << 24)) {
      throw Qcow2Header.bad(
          where, "refcount table of " + rtClusters + " clusters is not plausible");
    }
    checkTable(where, "refcount table", rtOffset, (long) rtClusters * cs, cs, fileSize);
    int nbSnapshots = b.getInt(60);
    long snapshotsOffset = b.getLong(64);
    long incompatible = b.getLong(72);
    long known =
        Qcow2Header.INCOMPAT_DIRTY
            | Qcow2Header.INCOMPAT_CORRUPT
            | Qcow2Header.INCOMPAT_COMPRESSION;
    if ((incompatible & Qcow2Header.INCOMPAT_DATA_FILE) != 0) {
      throw Qcow2Header.bad(where, "external data files are not supported");
    }
    if ((incompatible & Qcow2Header.INCOMPAT_EXTENDED_L2) != 0) {
      throw Qcow2Header.bad(where, "extended L2 entries (subclusters) are not supported");
    }
    if ((incompatible & ~known) != 0) {
      throw Qcow2Header.bad(
          where, "unknown incompatible features 0x" + Long.toHexString(incompatible & ~known));
    }
    long compatible = b.getLong(80);
    long autoclear = b.getLong(88);
    int refcountOrder = b.getInt(96);
    if (refcountOrder < 0 || refcountOrder > 6) {
      throw Qcow2Header.bad(where, "refcount_order " + refcountOrder + " is outside 0..6");
    }
    int headerLength = b.getInt(100);
    if (headerLength < 104 || headerLength % 8 != 0 || headerLength > head.length) {
      throw Qcow2Header.bad(
          where, "header_length " + headerLength + " is not a multiple of 8 in 104..cluster");
    }
    if ((incompatible & Qcow2Header.INCOMPAT_COMPRESSION) != 0
        && (headerLength < 105 || head[104] != 0)) {
      throw Qcow2Header.bad(where, "compression types other than zlib are not supported");
    }
    Optional<String> backing = Optional.empty();
    if (backingOffset != 0) {
      if (backingSize <= 0 || backingSize > Qcow2Header.MAX_BACKING_NAME) {
        throw Qcow2Header.bad(
            where,
            "backing file name of "
                + backingSize
                + " bytes (1.."
                + Qcow2Header.MAX_BACKING_NAME
                + ")");
      }
      if (backingOffset < headerLength || backingOffset + backingSize > head.length) {
        throw Qcow2Header.bad(
            where, "backing file name at " + backingOffset + " is outside the first cluster");
      }
      backing =
          Optional.of(new String(head, (int) backingOffset, backingSize, StandardCharsets.UTF_8));
    }
    Extensions ext =
        Extensions.read(b, headerLength, backing.isPresent() ? backingOffset : head.length, where);
    if (backing.isPresent() && ext.backingFormat.isPresent()) {
      String fmt = ext.backingFormat.get();
      if (!fmt.equals("qcow2")) {
        throw Qcow2Header.bad(where, "backing format " + fmt + " is not supported (only qcow2)");
      }
    }
    return new Qcow2Header(
        clusterBits,
        size,
        l1Size,
        l1Offset,
        rtOffset,
        rtClusters,
        nbSnapshots,
        snapshotsOffset,
        incompatible,
        compatible,
        autoclear,
        refcountOrder,
        backing,
        backing.isPresent() ? ext.backingFormat : Optional.empty(),
        ext.xsm,
        ext.unknown);
  }

  private static void checkTable(
      String where, String what, long offset, long bytes, long cs, long fileSize)
      throws Qcow2FormatException {
    if (offset <= 0 || offset % cs != 0) {
      throw Qcow2Header.bad(
          where, what + " offset 0x" + Long.toHexString(offset) + " is not cluster aligned");
    }
    if (offset + bytes > fileSize) {
      throw Qcow2Header.bad(
          where,
          what
              + " at 0x"
              + Long.toHexString(offset)
              + " ("
              + bytes
              + " bytes) ends past the file end "
              + fileSize);
    }
  }

  /** The parsed header extensions. */
  private record Extensions(
      Optional<String> backingFormat,
      Optional<XsmExtension> xsm,
      List<Qcow2Header.Extension> unknown) {

    static Extensions read(ByteBuffer b, int start, long limit, String where)
        throws Qcow2FormatException {
      Optional<String> fmt = Optional.empty();
      Optional<XsmExtension> xsm = Optional.empty();
      List<Qcow2Header.Extension> unknown = new ArrayList<>();
      int pos = start;
      while (true) {
        if (pos + 8 > limit) {
          throw Qcow2Header.bad(
              where, "header extensions run past the end of the header area at " + pos);
        }
        int type = b.getInt(pos);
        int len = b.getInt(pos + 4);
        if (type == Qcow2Header.EXT_END) {
          return new Extensions(fmt, xsm, unknown);
        }
        if (len < 0 || pos + 8L + len > limit) {
          throw Qcow2Header.bad(
              where,
              "header extension 0x"
                  + Integer.toHexString(type)
                  + " of "
                  + len
                  + " bytes at "
                  + pos
                  + " overruns the header area");
        }
        byte[] data = new byte[len];
        b.get(pos + 8, data);
        switch (type) {
          case Qcow2Header.EXT_BACKING_FORMAT ->
              fmt = Optional.of(new String(data, StandardCharsets.UTF_8));
          case XsmExtension.TYPE -> xsm = Optional.of(XsmExtension.decode(data, where));
          case Qcow2Header.EXT_FEATURE_NAMES -> {
            // Informational only; not written back (see the class comment).
          }
          case Qcow2Header.EXT_DATA_FILE ->
              throw Qcow2Header.bad(where, "external data files are not supported");
          default -> unknown.add(new Qcow2Header.Extension(type, data));
        }
        pos += 8 + ((len + 7) & ~7);
      }
    }
  }
}
