package org.xsm.plugins.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import org.xsm.plugins.qcow2.Qcow2;
import org.xsm.plugins.qcow2.Qcow2Chain;
import org.xsm.plugins.store.DiskChain;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.vhd.DiskType;
import org.xsm.plugins.vhd.Vhd;
import org.xsm.plugins.vhd.VhdChain;
import org.xsm.plugins.vhd.VhdCreator;
import org.xsm.plugins.vhd.VhdFooter;
import org.xsm.plugins.vhd.VhdSummary;

/**
 * The image formats of a VDI tree, each with the operations the tree and the tools need. VHD is the
 * default; qcow2 takes disks VHD cannot hold, as XCP-ng does: chosen by {@code
 * sm_config:image-format}, and automatically above {@link #AUTO_QCOW2_ABOVE_BYTES}.
 */
public enum ImageFormat {
  VHD("vhd", VhdFooter.MAX_SIZE_BYTES) {
    @Override
    public void create(ImageStore store, String name, long sizeBytes) throws IOException {
      Vhd.create(store, name, sizeBytes, false);
    }

    @Override
    public void snapshot(ImageStore store, String child, String parent) throws IOException {
      Vhd.snapshot(store, child, parent);
    }

    @Override
    public ImageInfo info(ImageStore store, String name) throws IOException {
      Vhd.Info i = Vhd.query(store, name);
      return new ImageInfo(
          this,
          i.virtualSizeBytes(),
          i.physicalSizeBytes(),
          Optional.ofNullable(i.parentName()),
          i.hidden(),
          i.chainDepth());
    }

    @Override
    public List<String> check(ImageStore store, String name, boolean parents) throws IOException {
      return Vhd.check(store, name, parents);
    }

    @Override
    public long coalesce(ImageStore store, String child) throws IOException {
      return Vhd.coalesce(store, child);
    }

    @Override
    public void setHidden(ImageStore store, String name, boolean hidden) throws IOException {
      Vhd.setHidden(store, name, hidden);
    }

    @Override
    public void resize(ImageStore store, String name, long sizeBytes) throws IOException {
      Vhd.resize(store, name, sizeBytes);
    }

    @Override
    public DiskChain open(ImageStore store, String name, boolean writable) throws IOException {
      return VhdChain.open(store, name, writable);
    }

    @Override
    public long coalesce(
        ImageStore store, String child, LongConsumer progress, BooleanSupplier abort)
        throws IOException {
      return Vhd.coalesce(store, child, progress, abort);
    }

    @Override
    public void setParent(ImageStore store, String child, String newParent) throws IOException {
      Vhd.setParent(store, child, newParent);
    }

    @Override
    public void snapshotUnsynced(ImageStore store, String child, String parent) throws IOException {
      VhdCreator.createDifferencingUnsynced(store, child, parent, VhdSummary.read(store, parent));
    }

    @Override
    public void setHiddenUnjournaled(ImageStore store, String name, boolean hidden)
        throws IOException {
      Vhd.setHiddenUnjournaled(store, name, hidden);
    }

    @Override
    public ImageSummary summary(ImageStore store, String name) throws IOException {
      VhdSummary v = VhdSummary.read(store, name);
      Optional<String> parent = Optional.empty();
      if (v.footer().diskType() == DiskType.DIFFERENCING) {
        String p = v.header().parentName();
        parent = Optional.of(p.substring(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1));
      }
      return new ImageSummary(
          parent, v.footer().hidden(), v.footer().virtualSizeBytes(), v.fileSizeBytes());
    }

    @Override
    public Optional<String> recoveryFile(String name) {
      return Optional.of(VhdSummary.undoJournalName(name));
    }
  },

  QCOW2("qcow2", Qcow2.MAX_SIZE_BYTES) {
    @Override
    public void create(ImageStore store, String name, long sizeBytes) throws IOException {
      Qcow2.create(store, name, sizeBytes);
    }

    @Override
    public void snapshot(ImageStore store, String child, String parent) throws IOException {
      Qcow2.snapshot(store, child, parent);
    }

    @Override
    public ImageInfo info(ImageStore store, String name) throws IOException {
      Qcow2.Info i = Qcow2.info(store, name);
      return new ImageInfo(
          this,
          i.virtualSizeBytes(),
          i.physicalSizeBytes(),
          i.backingFile(),
          i.hidden(),
          i.chainDepth());
    }

    @Override
    public List<String> check(ImageStore store, String name, boolean parents) throws IOException {
      return Qcow2.check(store, name, parents);
    }

    @Override
    public long coalesce(ImageStore store, String child) throws IOException {
      return Qcow2.coalesce(store, child);
    }

    @Override
    public void setHidden(ImageStore store, String name, boolean hidden) throws IOException {
      Qcow2.setHidden(store, name, hidden);
    }

    @Override
    public void resize(ImageStore store, String name, long sizeBytes) throws IOException {
      Qcow2.resize(store, name, sizeBytes);
    }

    @Override
    public DiskChain open(ImageStore store, String name, boolean writable) throws IOException {
      return Qcow2Chain.open(store, name, writable);
    }

    @Override
    public long coalesce(
        ImageStore store, String child, LongConsumer progress, BooleanSupplier abort)
        throws IOException {
      return Qcow2.coalesce(store, child, progress, abort);
    }

    @Override
    public void setParent(ImageStore store, String child, String newParent) throws IOException {
      Qcow2.setBacking(store, child, newParent);
    }

    @Override
    public void snapshotUnsynced(ImageStore store, String child, String parent) throws IOException {
      Qcow2.snapshotUnsynced(store, child, parent);
    }

    @Override
    public void setHiddenUnjournaled(ImageStore store, String name, boolean hidden)
        throws IOException {
      Qcow2.setHidden(store, name, hidden); // one atomic header write: no journal needed
    }

    @Override
    public ImageSummary summary(ImageStore store, String name) throws IOException {
      Qcow2.Summary q = Qcow2.summary(store, name);
      return new ImageSummary(q.backingFile(), q.hidden(), q.virtualSizeBytes(), q.fileSizeBytes());
    }

    @Override
    public Optional<String> recoveryFile(String name) {
      return Optional.empty();
    }
  };

  /** XCP-ng's threshold: larger disks are made qcow2 unless a format is asked for. */
  public static final long AUTO_QCOW2_ABOVE_BYTES = 2040L << 30;

  /** The {@code sm_config} key naming a VDI's format on create. */
  public static final String SM_CONFIG_KEY = "image-format";

  private final String wireName;
  private final long maxSizeBytes;

  ImageFormat(String wireName, long maxSizeBytes) {
    this.wireName = wireName;
    this.maxSizeBytes = maxSizeBytes;
  }

  /** The name in {@code sm_config:image-format} and on the command line. */
  public String wireName() {
    return wireName;
  }

  /** File name extension, with the dot. */
  public String extension() {
    return "." + wireName;
  }

  /** The format whose extension {@code fileName} has, if any. */
  public static Optional<ImageFormat> ofFileName(String fileName) {
    for (ImageFormat f : values()) {
      if (fileName.endsWith(f.extension())) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }

  public long maxSizeBytes() {
    return maxSizeBytes;
  }

  /** Creates an empty image of {@code sizeBytes} without parent. */
  public abstract void create(ImageStore store, String name, long sizeBytes) throws IOException;

  /** Creates {@code child}, an empty image over {@code parent}. */
  public abstract void snapshot(ImageStore store, String child, String parent) throws IOException;

  public abstract ImageInfo info(ImageStore store, String name) throws IOException;

  /** The problems found (empty when the image, and with {@code parents} its chain, is valid). */
  public abstract List<String> check(ImageStore store, String name, boolean parents)
      throws IOException;

  /** Merges the child's data into its parent; returns the bytes copied. */
  public abstract long coalesce(ImageStore store, String child) throws IOException;

  public abstract void setHidden(ImageStore store, String name, boolean hidden) throws IOException;

  /** Grows the virtual size. */
  public abstract void resize(ImageStore store, String name, long sizeBytes) throws IOException;

  /**
   * {@link #coalesce(ImageStore, String)}, telling {@code progress} the bytes copied so far and
   * stopping early ({@link java.io.InterruptedIOException}) when {@code abort} says so; a later
   * coalesce completes it.
   */
  public abstract long coalesce(
      ImageStore store, String child, LongConsumer progress, BooleanSupplier abort)
      throws IOException;

  /** Points {@code child} at {@code newParent}, durably. */
  public abstract void setParent(ImageStore store, String child, String newParent)
      throws IOException;

  /**
   * Creates {@code child} over {@code parent} from the parent's summary only; the new name is
   * durable only after the caller's {@link ImageStore#syncMetadata()} (batched snapshots share
   * one). A crash leaves no {@code child}, or the complete file.
   */
  public abstract void snapshotUnsynced(ImageStore store, String child, String parent)
      throws IOException;

  /**
   * Sets the hidden flag without an undo journal: for a file a caller's own log can roll back (a
   * new base copy of a snapshot).
   */
  public abstract void setHiddenUnjournaled(ImageStore store, String name, boolean hidden)
      throws IOException;

  /** The file's identity from its headers only. */
  public abstract ImageSummary summary(ImageStore store, String name) throws IOException;

  /**
   * The name of a file whose presence means the next open of {@code name} rolls something back
   * (VHD's undo journal), empty for formats that need none.
   */
  public abstract Optional<String> recoveryFile(String name);

  /** Opens the image and its parents as one disk. */
  public abstract DiskChain open(ImageStore store, String name, boolean writable)
      throws IOException;

  /**
   * The format {@code sm_config:image-format} asks for, else the default for the size: qcow2 above
   * {@link #AUTO_QCOW2_ABOVE_BYTES}, VHD otherwise.
   *
   * @throws IllegalArgumentException for an unknown format name
   */
  public static ImageFormat choose(Optional<String> requested, long sizeBytes) {
    if (requested.isPresent()) {
      return parse(requested.get());
    }
    return sizeBytes > AUTO_QCOW2_ABOVE_BYTES ? QCOW2 : VHD;
  }

  /**
   * The format of that name ({@code vhd} or {@code qcow2}, any case).
   *
   * @throws IllegalArgumentException naming the formats known
   */
  public static ImageFormat parse(String name) {
    for (ImageFormat f : values()) {
      if (f.wireName.equals(name.toLowerCase(Locale.ROOT))) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown image format '" + name + "' (known: vhd, qcow2)");
  }

  /**
   * The format of an existing file, from its first bytes (qcow2 magic) or its last 512 (VHD footer
   * cookie, or the copy at offset 0).
   *
   * @throws IOException if it is neither
   */
  public static ImageFormat detect(ImageStore store, String name) throws IOException {
    if (Qcow2.isQcow2(store, name)) {
      return QCOW2;
    }
    try (ImageFile f = store.open(name, false)) {
      if (f.size() >= 512) {
        ByteBuffer b = ByteBuffer.allocate(8);
        f.readFully(b, 0);
        ByteBuffer t = ByteBuffer.allocate(8);
        f.readFully(t, f.size() - 512);
        if (isVhdCookie(b) || isVhdCookie(t)) {
          return VHD;
        }
      }
    }
    throw new IOException(store.describe(name) + " is neither a qcow2 nor a VHD image");
  }

  private static boolean isVhdCookie(ByteBuffer b) {
    return new String(b.array(), java.nio.charset.StandardCharsets.US_ASCII).equals("conectix");
  }
}
