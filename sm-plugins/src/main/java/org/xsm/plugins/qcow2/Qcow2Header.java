package org.xsm.plugins.qcow2;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The qcow2 header (version 3) with its extensions and backing file name, as stored in the first
 * cluster of the file (qemu's {@code docs/interop/qcow2.txt}). {@link #decode} validates every
 * field this engine relies on, one precise message per failure; {@link #encode} writes the layout
 * this engine creates: the 112-byte header, the xsm extension, the backing format extension, any
 * unknown extensions read from the file, the end marker and the backing file name.
 *
 * <p>Spec deviation: the optional feature name table extension is dropped when the header is
 * rewritten, so that the rewritten header stays within one 512-byte sector (written atomically).
 *
 * @param sizeBytes virtual size of the disk
 * @param l1Size entries of the L1 table
 * @param incompatibleFeatures bit 0 dirty, bit 1 corrupt (others are refused on open)
 * @param xsm the xsm extension (hidden flag and identity), empty for files made by other tools
 * @param unknownExtensions extensions kept as read, written back unchanged
 */
public record Qcow2Header(
    int clusterBits,
    long sizeBytes,
    int l1Size,
    long l1TableOffset,
    long refcountTableOffset,
    int refcountTableClusters,
    int nbSnapshots,
    long snapshotsOffset,
    long incompatibleFeatures,
    long compatibleFeatures,
    long autoclearFeatures,
    int refcountOrder,
    Optional<String> backingFile,
    Optional<String> backingFormat,
    Optional<XsmExtension> xsm,
    List<Extension> unknownExtensions) {

  public static final int MAGIC = 0x514649fb;
  static final int V3_HEADER_BYTES = 112;
  static final int EXT_END = 0;
  static final int EXT_BACKING_FORMAT = 0xe2792aca;
  static final int EXT_FEATURE_NAMES = 0x6803f857;
  static final int EXT_BITMAPS = 0x23852875;
  static final int EXT_DATA_FILE = 0x44415441;

  /** Offset of the incompatible features field: the dirty bit is set and cleared in place. */
  static final int INCOMPATIBLE_FEATURES_OFFSET = 72;

  public static final long INCOMPAT_DIRTY = 1;
  public static final long INCOMPAT_CORRUPT = 1 << 1;
  static final long INCOMPAT_DATA_FILE = 1 << 2;
  static final long INCOMPAT_COMPRESSION = 1 << 3;
  static final long INCOMPAT_EXTENDED_L2 = 1 << 4;
  static final long AUTOCLEAR_BITMAPS = 1;

  /** Longest backing file name qemu accepts. */
  static final int MAX_BACKING_NAME = 1023;

  /** An extension kept as read. */
  public record Extension(int type, byte[] data) {}

  public Qcow2Header {
    unknownExtensions = List.copyOf(unknownExtensions);
  }

  public int clusterSize() {
    return 1 << clusterBits;
  }

  /** Entries of one L2 table (one cluster of 8-byte entries). */
  public int l2Entries() {
    return clusterSize() / 8;
  }

  public int refcountBits() {
    return 1 << refcountOrder;
  }

  public boolean isDirty() {
    return (incompatibleFeatures & INCOMPAT_DIRTY) != 0;
  }

  public boolean isHidden() {
    return xsm.map(XsmExtension::hidden).orElse(false);
  }

  /** L1 entries needed for a disk of {@code sizeBytes} with {@code clusterBits}. */
  static long l1EntriesFor(long sizeBytes, int clusterBits) {
    long perL2 = (1L << clusterBits) * ((1L << clusterBits) / 8);
    return (sizeBytes + perL2 - 1) / perL2;
  }

  public Qcow2Header withSize(long newSizeBytes, int newL1Size, long newL1Offset) {
    return new Qcow2Header(
        clusterBits,
        newSizeBytes,
        newL1Size,
        newL1Offset,
        refcountTableOffset,
        refcountTableClusters,
        nbSnapshots,
        snapshotsOffset,
        incompatibleFeatures,
        compatibleFeatures,
        autoclearFeatures,
        refcountOrder,
        backingFile,
        backingFormat,
        xsm,
        unknownExtensions);
  }

  /** The same header with the refcount table at {@code offset}, {@code clusters} long. */
  public Qcow2Header withRefcountTable(long offset, int clusters) {
    return new Qcow2Header(
        clusterBits,
        sizeBytes,
        l1Size,
        l1TableOffset,
        offset,
        clusters,
        nbSnapshots,
        snapshotsOffset,
        incompatibleFeatures,
        compatibleFeatures,
        autoclearFeatures,
        refcountOrder,
        backingFile,
        backingFormat,
        xsm,
        unknownExtensions);
  }

  public Qcow2Header withXsm(XsmExtension ext) {
    return new Qcow2Header(
        clusterBits,
        sizeBytes,
        l1Size,
        l1TableOffset,
        refcountTableOffset,
        refcountTableClusters,
        nbSnapshots,
        snapshotsOffset,
        incompatibleFeatures,
        compatibleFeatures,
        autoclearFeatures,
        refcountOrder,
        backingFile,
        backingFormat,
        Optional.of(ext),
        unknownExtensions);
  }

  public Qcow2Header withBacking(Optional<String> file) {
    return new Qcow2Header(
        clusterBits,
        sizeBytes,
        l1Size,
        l1TableOffset,
        refcountTableOffset,
        refcountTableClusters,
        nbSnapshots,
        snapshotsOffset,
        incompatibleFeatures,
        compatibleFeatures,
        autoclearFeatures,
        refcountOrder,
        file,
        file.map(f -> "qcow2"),
        xsm,
        unknownExtensions);
  }

  /**
   * Decodes and validates the header from the start of a file.
   *
   * @param head the first bytes of the file (at least the header, at most one cluster)
   * @param fileSize the file's size, to check that tables lie inside it
   * @param where the file's name for messages
   */
  public static Qcow2Header decode(byte[] head, long fileSize, String where)
      throws Qcow2FormatException {
    if (head.length < 104) {
      throw bad(where, "file of " + fileSize + " bytes is too short for a qcow2 header");
    }
    ByteBuffer b = ByteBuffer.wrap(head);
    int magic = b.getInt(0);
    if (magic != MAGIC) {
      throw bad(where, "bad magic 0x" + Integer.toHexString(magic) + ", expected 0x514649fb");
    }
    int version = b.getInt(4);
    if (version != 3) {
      throw bad(
          where,
          "qcow2 version "
              + version
              + " is not supported (only version 3; convert with qemu-img amend -o compat=1.1)");
    }
    long backingOffset = b.getLong(8);
    int backingSize = b.getInt(16);
    int clusterBits = b.getInt(20);
    if (clusterBits < 9 || clusterBits > 21) {
      throw bad(where, "cluster_bits " + clusterBits + " is outside 9..21");
    }
    long cs = 1L << clusterBits;
    long size = b.getLong(24);
    if (size < 0) {
      throw bad(where, "virtual size " + Long.toUnsignedString(size) + " is too large");
    }
    int crypt = b.getInt(32);
    if (crypt != 0) {
      throw bad(where, "encrypted images are not supported (crypt_method " + crypt + ")");
    }
    int l1Size = b.getInt(36);
    long l1Offset = b.getLong(40);
    if (l1Size < 0 || l1Size < l1EntriesFor(size, clusterBits)) {
      throw bad(
          where,
          "L1 table of "
              + Integer.toUnsignedString(l1Size)
              + " entries is too small for "
              + size
              + " bytes (needs "
              + l1EntriesFor(size, clusterBits)
              + ")");
    }
    checkTable(where, "L1 table", l1Offset, (long) l1Size * 8, cs, fileSize);
    long rtOffset = b.getLong(48);
    int rtClusters = b.getInt(56);
    if (rtClusters <= 0 || rtClusters > (1 << 24)) {
      throw bad(where, "refcount table of " + rtClusters + " clusters is not plausible");
    }
    checkTable(where, "refcount table", rtOffset, (long) rtClusters * cs, cs, fileSize);
    int nbSnapshots = b.getInt(60);
    long snapshotsOffset = b.getLong(64);
    long incompatible = b.getLong(72);
    long known = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_COMPRESSION;
    if ((incompatible & INCOMPAT_DATA_FILE) != 0) {
      throw bad(where, "external data files are not supported");
    }
    if ((incompatible & INCOMPAT_EXTENDED_L2) != 0) {
      throw bad(where, "extended L2 entries (subclusters) are not supported");
    }
    if ((incompatible & ~known) != 0) {
      throw bad(
          where, "unknown incompatible features 0x" + Long.toHexString(incompatible & ~known));
    }
    long compatible = b.getLong(80);
    long autoclear = b.getLong(88);
    int refcountOrder = b.getInt(96);
    if (refcountOrder < 0 || refcountOrder > 6) {
      throw bad(where, "refcount_order " + refcountOrder + " is outside 0..6");
    }
    int headerLength = b.getInt(100);
    if (headerLength < 104 || headerLength % 8 != 0 || headerLength > head.length) {
      throw bad(where, "header_length " + headerLength + " is not a multiple of 8 in 104..cluster");
    }
    if ((incompatible & INCOMPAT_COMPRESSION) != 0 && (headerLength < 105 || head[104] != 0)) {
      throw bad(where, "compression types other than zlib are not supported");
    }
    Optional<String> backing = Optional.empty();
    if (backingOffset != 0) {
      if (backingSize <= 0 || backingSize > MAX_BACKING_NAME) {
        throw bad(
            where, "backing file name of " + backingSize + " bytes (1.." + MAX_BACKING_NAME + ")");
      }
      if (backingOffset < headerLength || backingOffset + backingSize > head.length) {
        throw bad(where, "backing file name at " + backingOffset + " is outside the first cluster");
      }
      backing =
          Optional.of(new String(head, (int) backingOffset, backingSize, StandardCharsets.UTF_8));
    }
    Extensions ext =
        Extensions.read(b, headerLength, backing.isPresent() ? backingOffset : head.length, where);
    if (backing.isPresent() && ext.backingFormat.isPresent()) {
      String fmt = ext.backingFormat.get();
      if (!fmt.equals("qcow2")) {
        throw bad(where, "backing format " + fmt + " is not supported (only qcow2)");
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
      throw bad(where, what + " offset 0x" + Long.toHexString(offset) + " is not cluster aligned");
    }
    if (offset + bytes > fileSize) {
      throw bad(
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
      Optional<String> backingFormat, Optional<XsmExtension> xsm, List<Extension> unknown) {

    static Extensions read(ByteBuffer b, int start, long limit, String where)
        throws Qcow2FormatException {
      Optional<String> fmt = Optional.empty();
      Optional<XsmExtension> xsm = Optional.empty();
      List<Extension> unknown = new ArrayList<>();
      int pos = start;
      while (true) {
        if (pos + 8 > limit) {
          throw bad(where, "header extensions run past the end of the header area at " + pos);
        }
        int type = b.getInt(pos);
        int len = b.getInt(pos + 4);
        if (type == EXT_END) {
          return new Extensions(fmt, xsm, unknown);
        }
        if (len < 0 || pos + 8L + len > limit) {
          throw bad(
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
          case EXT_BACKING_FORMAT -> fmt = Optional.of(new String(data, StandardCharsets.UTF_8));
          case XsmExtension.TYPE -> xsm = Optional.of(XsmExtension.decode(data, where));
          case EXT_FEATURE_NAMES -> {
            // Informational only; not written back (see the class comment).
          }
          case EXT_DATA_FILE -> throw bad(where, "external data files are not supported");
          default -> unknown.add(new Extension(type, data));
        }
        pos += 8 + ((len + 7) & ~7);
      }
    }
  }

  /** Bytes of the encoded header area: header, extensions, backing name. */
  public byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(clusterSize());
    b.putInt(MAGIC).putInt(3);
    b.putLong(0).putInt(0); // backing name offset and size, filled below
    b.putInt(clusterBits).putLong(sizeBytes).putInt(0).putInt(l1Size).putLong(l1TableOffset);
    b.putLong(refcountTableOffset).putInt(refcountTableClusters).putInt(nbSnapshots);
    b.putLong(snapshotsOffset).putLong(incompatibleFeatures).putLong(compatibleFeatures);
    // Autoclear bits are cleared: this engine knows none of them (bitmaps), and changes the image.
    b.putLong(0).putInt(refcountOrder).putInt(V3_HEADER_BYTES);
    b.put((byte) 0); // compression type: zlib
    b.position(V3_HEADER_BYTES);
    if (xsm.isPresent()) {
      putExtension(b, XsmExtension.TYPE, xsm.get().encode());
    }
    if (backingFile.isPresent() && backingFormat.isPresent()) {
      putExtension(b, EXT_BACKING_FORMAT, backingFormat.get().getBytes(StandardCharsets.UTF_8));
    }
    for (Extension e : unknownExtensions) {
      putExtension(b, e.type(), e.data());
    }
    b.putInt(EXT_END).putInt(0);
    if (backingFile.isPresent()) {
      byte[] name = backingFile.get().getBytes(StandardCharsets.UTF_8);
      b.putLong(8, b.position()).putInt(16, name.length);
      b.put(name);
    }
    byte[] out = new byte[b.position()];
    b.get(0, out);
    return out;
  }

  private static void putExtension(ByteBuffer b, int type, byte[] data) {
    b.putInt(type).putInt(data.length).put(data);
    b.position(b.position() + ((8 - data.length % 8) % 8));
  }

  static Qcow2FormatException bad(String where, String what) {
    return new Qcow2FormatException("qcow2 " + where + ": " + what);
  }
}
