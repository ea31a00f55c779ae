package org.xsm.plugins.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * The qcow2 operations a VDI tree needs: each opens what it needs, does one thing and closes. Files
 * are created as {@code qemu-img create -f qcow2} makes them (version 3, 64 KiB clusters, 16-bit
 * refcounts, lazy refcounts off), plus the xsm header extension ({@link XsmExtension}).
 */
public final class Qcow2 {
  private Qcow2() {}

  public static final int DEFAULT_CLUSTER_BITS = 16;
  private static final int REFCOUNT_ORDER = 4;

  /** Largest virtual size created: XCP-ng's qcow2 limit. */
  public static final long MAX_SIZE_BYTES = 16L << 40;

  /** What {@code xsm img info} reports about one file. */
  public record Info(
      long virtualSizeBytes,
      long physicalSizeBytes,
      int clusterSize,
      Optional<String> backingFile,
      boolean hidden,
      boolean dirty,
      int chainDepth,
      Optional<UUID> uuid,
      long allocatedClusters) {}

  /** Whether a file starts with the qcow2 magic. */
  public static boolean isQcow2(ImageStore store, String name) throws IOException {
    try (ImageFile f = store.open(name, false)) {
      if (f.size() < 4) {
        return false;
      }
      ByteBuffer b = ByteBuffer.allocate(4);
      f.readFully(b, 0);
      return b.getInt(0) == Qcow2Header.MAGIC;
    }
  }

  /** Creates an empty disk of {@code sizeBytes} (rounded up to 512) with no backing file. */
  public static void create(ImageStore store, String name, long sizeBytes) throws IOException {
    create(store, name, sizeBytes, Optional.empty(), XsmExtension.NIL);
  }

  /**
   * Creates an empty image of {@code sizeBytes} whose backing file is named {@code backingName},
   * which need not exist here (an incremental export names the base its receiver holds).
   */
  public static void createOver(ImageStore store, String name, long sizeBytes, String backingName)
      throws IOException {
    create(store, name, sizeBytes, Optional.of(backingName), XsmExtension.NIL);
  }

  /** Creates {@code child}, an empty image over {@code parent} (same size, relative name). */
  public static void snapshot(ImageStore store, String child, String parent) throws IOException {
    snapshot(store, child, parent, DEFAULT_CLUSTER_BITS);
  }

  /**
   * {@link #snapshot}, leaving the rename durable only at the caller's {@link
   * ImageStore#syncMetadata()}; the parent's header alone is read.
   */
  public static void snapshotUnsynced(ImageStore store, String child, String parent)
      throws IOException {
    if (child.equals(parent)) {
      throw new Qcow2FormatException(
          "qcow2 " + store.describe(child) + " cannot be its own backing file");
    }
    Summary p = summary(store, parent);
    create(
        store,
        child,
        p.virtualSizeBytes(),
        Optional.of(parent),
        p.uuid().orElse(XsmExtension.NIL),
        DEFAULT_CLUSTER_BITS,
        false);
  }

  /**
   * A file's identity from its header alone (one read of the first cluster whatever the disk size):
   * what listing an SR's tree needs.
   *
   * @param backingFile base name of the backing file, empty without one
   */
  public record Summary(
      Optional<String> backingFile,
      boolean hidden,
      long virtualSizeBytes,
      long fileSizeBytes,
      Optional<UUID> uuid) {}

  /** Reads and validates the header of {@code name}. */
  public static Summary summary(ImageStore store, String name) throws IOException {
    try (ImageFile f = store.open(name, false)) {
      long size = f.size();
      ByteBuffer head = ByteBuffer.allocate((int) Math.min(size, 1 << DEFAULT_CLUSTER_BITS));
      f.readFully(head, 0);
      Qcow2Header h = Qcow2Header.decode(head.array(), size, store.describe(name));
      return new Summary(
          h.backingFile().map(Qcow2Image::baseName),
          h.isHidden(),
          h.sizeBytes(),
          size,
          h.xsm().map(XsmExtension::uuid));
    }
  }

  static void snapshot(ImageStore store, String child, String parent, int bits) throws IOException {
    long size;
    UUID parentUuid;
    try (Qcow2Image p = Qcow2Image.open(store, parent, false)) {
      size = p.virtualSizeBytes();
      parentUuid = p.header().xsm().map(XsmExtension::uuid).orElse(XsmExtension.NIL);
    }
    create(store, child, size, Optional.of(parent), parentUuid, bits);
  }

  /**
   * Writes the new file under a temporary name, forces it and renames it into place, so a crash
   * leaves no half-made image under {@code name}.
   */
  static void create(
      ImageStore store, String name, long sizeBytes, Optional<String> backing, UUID parentUuid)
      throws IOException {
    create(store, name, sizeBytes, backing, parentUuid, DEFAULT_CLUSTER_BITS);
  }

  /** {@link #create} with another cluster size (tests use small clusters to reach more paths). */
  static void create(
      ImageStore store,
      String name,
      long sizeBytes,
      Optional<String> backing,
      UUID parentUuid,
      int bits)
      throws IOException {
    create(store, name, sizeBytes, backing, parentUuid, bits, true);
  }

  /**
   * Writes {@code .<name>.creating}, forces it and renames it to {@code name}; with {@code sync}
   * the rename is made durable, else that is the caller's {@link ImageStore#syncMetadata()} (so
   * that several creations share one). A crash leaves no {@code name}, or the complete file.
   */
  private static void create(
      ImageStore store,
      String name,
      long sizeBytes,
      Optional<String> backing,
      UUID parentUuid,
      int bits,
      boolean sync)
      throws IOException {
    if (sizeBytes <= 0 || sizeBytes > MAX_SIZE_BYTES) {
      throw new Qcow2FormatException(
          "qcow2 "
              + store.describe(name)
              + ": size "
              + sizeBytes
              + " is outside 1.."
              + MAX_SIZE_BYTES
              + " bytes");
    }
    if (store.exists(name)) {
      throw new java.nio.file.FileAlreadyExistsException(store.describe(name));
    }
    long size = (sizeBytes + 511) & ~511L;
    long cs = 1L << bits;
    int l1Size = (int) Qcow2Header.l1EntriesFor(size, bits);
    int l1Clusters = (int) Math.max(1, Qcow2Image.ceilDiv(l1Size * 8L, cs));
    long perBlock = (8L << bits) >> REFCOUNT_ORDER;
    // Room for every cluster of the disk, its L2 tables and refcount blocks, with margin.
    long fileClusters = (size >> bits) + (size >> bits) / (cs / 8) + 1024;
    long blocks = Qcow2Image.ceilDiv(fileClusters, perBlock) + 1;
    int rtClusters = (int) Math.max(1, Qcow2Image.ceilDiv(blocks * 8, cs));
    long rtOffset = cs;
    long blockOffset = rtOffset + rtClusters * cs;
    long l1Offset = blockOffset + cs;
    int used = (int) ((l1Offset >> bits) + l1Clusters);
    if (used > perBlock) {
      throw new Qcow2FormatException(
          "qcow2 "
              + store.describe(name)
              + ": "
              + used
              + " metadata clusters do not fit one refcount block");
    }
    Qcow2Header h =
        new Qcow2Header(
            bits,
            size,
            l1Size,
            l1Offset,
            rtOffset,
            rtClusters,
            0,
            0,
            0,
            0,
            0,
            REFCOUNT_ORDER,
            Optional.empty(),
            Optional.empty(),
            Optional.of(new XsmExtension(false, UUID.randomUUID(), parentUuid)),
            List.of());
    h = h.withBacking(backing);
    ByteBuffer file = ByteBuffer.allocate((int) (l1Offset + l1Clusters * cs));
    file.put(0, h.encode());
    file.putLong((int) rtOffset, blockOffset);
    for (int c = 0; c < used; c++) {
      file.putShort((int) blockOffset + c * 2, (short) 1); // 16-bit counts (refcount order 4)
    }
    String tmp = "." + name + ".creating";
    if (store.exists(tmp)) {
      store.delete(tmp);
    }
    try (ImageFile f = store.create(tmp)) {
      f.writeFully(file, 0);
      f.force();
    }
    store.rename(tmp, name);
    if (sync) {
      store.syncMetadata();
    }
  }

  /** Everything {@code xsm img info} reports. */
  public static Info info(ImageStore store, String name) throws IOException {
    try (Qcow2Chain chain = Qcow2Chain.open(store, name, false)) {
      Qcow2Image img = chain.leaf();
      Qcow2Header h = img.header();
      return new Info(
          h.sizeBytes(),
          img.physicalSizeBytes(),
          h.clusterSize(),
          img.backingFileName(),
          h.isHidden(),
          h.isDirty(),
          chain.depth(),
          h.xsm().map(XsmExtension::uuid),
          img.allocatedClusters().cardinality());
    }
  }

  /**
   * Checks a file (and with {@code parents} its backing chain): the open's validation, then the
   * metadata's consistency. Returns the problems, empty when clean; leaks are one problem.
   */
  public static List<String> check(ImageStore store, String name, boolean parents)
      throws IOException {
    List<String> out = new ArrayList<>();
    try (Qcow2Chain chain = Qcow2Chain.open(store, name, false)) {
      for (Qcow2Image l : parents ? chain.layers() : chain.layers().subList(0, 1)) {
        Qcow2Check.Result r = Qcow2Check.check(l);
        for (String e : r.errors()) {
          out.add(l.name() + ": " + e);
        }
        if (r.leakedClusters() > 0) {
          out.add(l.name() + ": " + r.leakedClusters() + " leaked clusters");
        }
      }
    } catch (Qcow2FormatException e) {
      out.add(e.getMessage());
    }
    return out;
  }

  /** Sets or clears the hidden flag. */
  public static void setHidden(ImageStore store, String name, boolean hidden) throws IOException {
    try (Qcow2Image img = Qcow2Image.open(store, name, true)) {
      img.setHidden(hidden);
    }
  }

  /** Grows the virtual size. */
  public static void resize(ImageStore store, String name, long sizeBytes) throws IOException {
    try (Qcow2Image img = Qcow2Image.open(store, name, true)) {
      img.resize((sizeBytes + 511) & ~511L);
    }
  }

  /** Points {@code child} at {@code newParent} (whose content must be what the child expects). */
  public static void setBacking(ImageStore store, String child, String newParent)
      throws IOException {
    UUID uuid;
    try (Qcow2Image p = Qcow2Image.open(store, newParent, false)) {
      uuid = p.header().xsm().map(XsmExtension::uuid).orElse(XsmExtension.NIL);
    }
    try (Qcow2Image img = Qcow2Image.open(store, child, true)) {
      img.setBacking(Optional.of(newParent), uuid);
    }
  }

  /**
   * Copies every cluster {@code child} holds into its backing file (data as data, zero clusters as
   * zeros), then flushes the parent: {@code qemu-img commit}. The child is left as it was; its
   * content now equals its parent's. Returns the bytes copied.
   */
  public static long coalesce(ImageStore store, String child) throws IOException {
    return coalesce(store, child, n -> {}, () -> false);
  }

  /**
   * {@link #coalesce(ImageStore, String)}, telling {@code progress} the bytes copied so far after
   * each run of at most 1 MiB and stopping early ({@link java.io.InterruptedIOException}) when
   * {@code abort} says so. The parent is flushed either way.
   *
   * <p>Crash safety: the parent is read only through this child, which holds every cluster being
   * copied, so a crash mid-way changes nothing a reader sees; coalescing again completes it.
   */
  public static long coalesce(
      ImageStore store,
      String child,
      java.util.function.LongConsumer progress,
      java.util.function.BooleanSupplier abort)
      throws IOException {
    try (Qcow2Image c = Qcow2Image.open(store, child, false)) {
      String parent =
          c.backingFileName()
              .orElseThrow(
                  () -> Qcow2Header.bad(c.where(), "has no backing file to coalesce into"));
      try (Qcow2Chain from = Qcow2Chain.open(store, child, false);
          Qcow2Chain into = Qcow2Chain.open(store, parent, true)) {
        if (into.virtualSizeBytes() < from.virtualSizeBytes()) {
          into.leaf().resize(from.virtualSizeBytes());
        }
        try {
          return copyClusters(c, from, into, progress, abort);
        } finally {
          into.flush();
        }
      }
    }
  }

  private static long copyClusters(
      Qcow2Image layer,
      Qcow2Chain from,
      Qcow2Chain into,
      java.util.function.LongConsumer progress,
      java.util.function.BooleanSupplier abort)
      throws IOException {
    BitSet held = layer.allocatedClusters();
    int cs = layer.clusterSize();
    long size = from.virtualSizeBytes();
    long copied = 0;
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    int i = held.nextSetBit(0);
    while (i >= 0) {
      if (abort.getAsBoolean()) {
        throw new java.io.InterruptedIOException("coalesce of " + layer.where() + " aborted");
      }
      progress.accept(copied);
      int j = i;
      while (held.get(j + 1) && (long) (j + 1 - i + 1) * cs <= buf.capacity()) {
        j++;
      }
      long off = (long) i * cs;
      int len = (int) Math.min((long) (j - i + 1) * cs, size - off);
      if (allZero(layer, i, j)) {
        into.zero(off, len);
      } else {
        buf.clear().limit(len);
        from.read(buf, off);
        buf.flip();
        into.write(buf, off);
        copied += len;
      }
      i = held.nextSetBit(j + 1);
    }
    return copied;
  }

  private static boolean allZero(Qcow2Image layer, int from, int to) throws IOException {
    for (int k = from; k <= to; k++) {
      if (!Entries.isZero(layer.entry(k))) {
        return false;
      }
    }
    return true;
  }
}
