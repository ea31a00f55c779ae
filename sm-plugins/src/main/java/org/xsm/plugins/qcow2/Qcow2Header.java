package org.xsm.plugins.qcow2;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
   * Decodes and validates the header from the start of a file ({@link HeaderDecoding}).
   *
   * @param head the first bytes of the file (at least the header, at most one cluster)
   * @param fileSize the file's size, to check that tables lie inside it
   * @param where the file's name for messages
   */
  public static Qcow2Header decode(byte[] head, long fileSize, String where)
      throws Qcow2FormatException {
    return HeaderDecoding.decode(head, fileSize, where);
  }

  /** The same header with other incompatible feature bits (the dirty bit). */
  Qcow2Header withIncompatibleFeatures(long bits) {
    return new Qcow2Header(
        clusterBits,
        sizeBytes,
        l1Size,
        l1TableOffset,
        refcountTableOffset,
        refcountTableClusters,
        nbSnapshots,
        snapshotsOffset,
        bits,
        compatibleFeatures,
        autoclearFeatures,
        refcountOrder,
        backingFile,
        backingFormat,
        xsm,
        unknownExtensions);
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
