package org.xsm.plugins.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * Creates VHD files the way blktap's {@code vhd-util create} and {@code snapshot} do: creator "tap"
 * version 1.3, 2 MiB blocks, sizes rounded up to 2 MiB, a batmap, and for differencing disks the
 * parent's UUID, timestamp and name with three relative locators (MACX, W2KU, W2RU).
 *
 * <p>Layout of a dynamic or differencing disk: footer copy at 0, header at 512, BAT at 1536 (padded
 * to a sector, unused entries all ones), batmap header and map, for differencing disks three
 * 512-byte locator areas, then the primary footer where the first block will go.
 *
 * <p>Crash safety: the file is written under a temporary name ({@code .<name>.creating}), forced,
 * then renamed into place and the directory synced. A crash leaves either no file of that name or a
 * complete one; a leftover temporary file is ignored by everything and replaced by the next create
 * of the same name.
 *
 * <p>Spec deviation: the parent timestamp is the parent footer's timestamp, not the parent file's
 * modification time as blktap writes it; no reader checks it, and this one is stable across copies
 * of the parent.
 */
public final class VhdCreator {
  private static final long MIN_SIZE = DynamicHeader.DEFAULT_BLOCK_SIZE;
  private static final int STREAM_CREATOR_VERSION = 0x00010001;

  private VhdCreator() {}

  /** A fixed disk: data, then the footer. */
  public static VhdImage createFixed(ImageStore store, String name, long sizeBytes)
      throws IOException {
    long size = checkSize(sizeBytes);
    VhdFooter f = footer(DiskType.FIXED, size, -1L);
    return build(
        store,
        name,
        file -> {
          file.truncate(size);
          file.writeFully(ByteBuffer.wrap(f.encode()), size);
        });
  }

  /** An empty dynamic disk. */
  public static VhdImage createDynamic(ImageStore store, String name, long sizeBytes)
      throws IOException {
    long size = checkSize(sizeBytes);
    return build(
        store, name, file -> writeSparse(file, footer(DiskType.DYNAMIC, size, 512), null, null));
  }

  /**
   * The footer of a new parentless dynamic disk of {@code sizeBytes}, for writers that stream a VHD
   * (footer copy, header, BAT, blocks, footer) instead of creating a file.
   *
   * @throws VhdFormatException for a size out of range
   */
  public static VhdFooter dynamicFooter(long sizeBytes) throws VhdFormatException {
    VhdFooter f = footer(DiskType.DYNAMIC, checkSize(sizeBytes), DynamicHeader.OFFSET);
    // Creator tap 1.1: before the batmap, which a stream does not carry (1.2 and later need one).
    return new VhdFooter(
        f.features(),
        f.fileFormatVersion(),
        f.dataOffset(),
        f.timestamp(),
        f.creatorApp(),
        STREAM_CREATOR_VERSION,
        f.creatorHostOs(),
        f.originalSizeBytes(),
        f.currentSizeBytes(),
        f.geometry(),
        f.diskType(),
        f.uuid(),
        f.savedState(),
        f.hidden());
  }

  /**
   * The footer of a streamed disk (creator tap 1.1, no batmap) with a chosen identity: an exporter
   * gives an image the UUID and timestamp its deltas name as their parent, so a chain of exports
   * links up as a chain of files would.
   *
   * @param type {@link DiskType#DYNAMIC} or {@link DiskType#DIFFERENCING}
   * @param timestamp seconds since 2000-01-01 UTC
   * @throws VhdFormatException for a size out of range
   */
  public static VhdFooter streamFooter(DiskType type, long sizeBytes, UUID uuid, long timestamp)
      throws VhdFormatException {
    VhdFooter f = dynamicFooter(sizeBytes);
    return new VhdFooter(
        f.features(),
        f.fileFormatVersion(),
        f.dataOffset(),
        timestamp,
        f.creatorApp(),
        f.creatorVersion(),
        f.creatorHostOs(),
        sizeBytes,
        sizeBytes,
        Geometry.forSize(sizeBytes),
        type,
        uuid,
        f.savedState(),
        f.hidden());
  }

  /** A streamed differencing disk's header and the locator area that follows its BAT. */
  public record StreamHeader(DynamicHeader header, byte[] locatorArea) {}

  /**
   * The header of a streamed differencing disk over a parent known by UUID, timestamp and file
   * name, with its BAT at {@code tableOffset} and three relative locators (MACX, W2KU, W2RU, as
   * blktap writes them), 512 bytes each, at {@code locatorOffset}: the caller writes {@link
   * StreamHeader#locatorArea()} there.
   *
   * @throws VhdFormatException if the parent name does not fit a locator
   */
  public static StreamHeader differencingStreamHeader(
      long tableOffset,
      int entries,
      UUID parentUuid,
      long parentTimestamp,
      String parentName,
      long locatorOffset)
      throws VhdFormatException {
    int[] codes = {ParentLocator.MACX, ParentLocator.W2KU, ParentLocator.W2RU};
    byte[] area = new byte[512 * codes.length];
    List<ParentLocator> locs = new ArrayList<>();
    for (int i = 0; i < codes.length; i++) {
      byte[] d = ParentLocator.encodePath(codes[i], parentName);
      if (d.length > 512) {
        throw new VhdFormatException("parent name '" + parentName + "' is too long");
      }
      System.arraycopy(d, 0, area, 512 * i, d.length);
      locs.add(new ParentLocator(codes[i], 512, d.length, locatorOffset + 512L * i));
    }
    while (locs.size() < 8) {
      locs.add(ParentLocator.NONE);
    }
    return new StreamHeader(
        new DynamicHeader(
            tableOffset,
            entries,
            DynamicHeader.DEFAULT_BLOCK_SIZE,
            parentUuid,
            parentTimestamp,
            parentName,
            locs),
        area);
  }

  /**
   * The dynamic header of a new parentless dynamic disk with {@code entries} blocks of the default
   * size and its BAT at {@code tableOffset}; see {@link #dynamicFooter}.
   */
  public static DynamicHeader dynamicHeader(long tableOffset, int entries) {
    return new DynamicHeader(
        tableOffset,
        entries,
        DynamicHeader.DEFAULT_BLOCK_SIZE,
        new UUID(0, 0),
        0,
        "",
        java.util.Collections.nCopies(8, ParentLocator.NONE));
  }

  /**
   * An empty differencing disk over {@code parent}, of the parent's virtual size (or larger).
   *
   * @param sizeBytes the child's virtual size, or 0 for the parent's
   */
  public static VhdImage createDifferencing(
      ImageStore store, String name, VhdImage parent, long sizeBytes) throws IOException {
    if (parent.store() != store) {
      throw new VhdFormatException(
          "parent " + parent.where() + " must be in the same directory as " + store.describe(name));
    }
    if (name.equals(parent.name())) {
      throw new VhdFormatException("a VHD cannot be its own parent: " + store.describe(name));
    }
    long size =
        sizeBytes == 0 ? VhdImage.roundUpToBlock(parent.virtualSizeBytes()) : checkSize(sizeBytes);
    if (size < parent.virtualSizeBytes()) {
      throw new VhdFormatException(
          "child size " + size + " is smaller than its parent's " + parent.virtualSizeBytes());
    }
    VhdFooter f = footer(DiskType.DIFFERENCING, size, 512);
    return build(store, name, file -> writeSparse(file, f, parent.footer(), parent.name()));
  }

  private static long checkSize(long sizeBytes) throws VhdFormatException {
    if (sizeBytes <= 0) {
      throw new VhdFormatException("size must be positive, got " + sizeBytes);
    }
    long size = Math.max(MIN_SIZE, VhdImage.roundUpToBlock(sizeBytes));
    if (size > VhdFooter.MAX_SIZE_BYTES) {
      throw new VhdFormatException(
          "size " + sizeBytes + " exceeds the VHD maximum of " + VhdFooter.MAX_SIZE_BYTES);
    }
    return size;
  }

  private static VhdFooter footer(DiskType type, long size, long dataOffset) {
    return new VhdFooter(
        VhdFooter.FEATURE_RESERVED,
        VhdFooter.FORMAT_VERSION,
        dataOffset,
        Be.vhdNow(),
        VhdFooter.CREATOR_TAP,
        VhdFooter.CREATOR_VERSION_TAP,
        0,
        size,
        size,
        Geometry.forSize(size),
        type,
        UUID.randomUUID(),
        0,
        false);
  }

  /**
   * An empty differencing disk {@code name} over {@code parentName}, known by its summary only: no
   * block table is read, and the new file (footer copy, header, block table, batmap, locators,
   * footer) is written in one call. Written as {@code .<name>.creating}, forced, then renamed to
   * {@code name}.
   *
   * <p>Crash safety: the rename is durable only after the caller's {@link
   * ImageStore#syncMetadata()}, so that several creations share one. Until then a crash leaves no
   * {@code name}, or the complete file; a leftover temporary file is the caller's to delete.
   *
   * @return the new file's size in bytes
   */
  public static long createDifferencingUnsynced(
      ImageStore store, String name, String parentName, VhdSummary parent) throws IOException {
    if (name.equals(parentName)) {
      throw new VhdFormatException("a VHD cannot be its own parent: " + store.describe(name));
    }
    long size = VhdImage.roundUpToBlock(parent.footer().virtualSizeBytes());
    VhdFooter f = footer(DiskType.DIFFERENCING, size, 512);
    return write(store, name, file -> writeSparse(file, f, parent.footer(), parentName));
  }

  /**
   * Writes {@code .<name>.creating}, forces it and renames it to {@code name}; no directory sync.
   */
  private static long write(ImageStore store, String name, Writer w) throws IOException {
    if (store.exists(name)) {
      throw new FileAlreadyExistsException(store.describe(name), null, "VHD already exists");
    }
    String tmp = "." + name + ".creating";
    if (store.exists(tmp)) {
      store.delete(tmp);
    }
    long size;
    try (ImageFile f = store.create(tmp)) {
      w.write(f);
      f.force();
      size = f.size();
    } catch (IOException | RuntimeException e) {
      store.delete(tmp);
      throw e;
    }
    store.rename(tmp, name);
    return size;
  }

  /** Builds the whole file in memory and writes it with one call. */
  private static void writeSparse(
      ImageFile file, VhdFooter f, VhdFooter parentFooter, String parentNameOrNull)
      throws IOException {
    int entries = (int) VhdImage.ceilDiv(f.currentSizeBytes(), DynamicHeader.DEFAULT_BLOCK_SIZE);
    long table = DynamicHeader.OFFSET + DynamicHeader.SIZE;
    long batBytes = Be.pad512(4L * entries);
    long batmapHeader = table + batBytes;
    Batmap batmap =
        new Batmap(
            batmapHeader + Batmap.HEADER_SIZE,
            Batmap.sectorsFor(entries),
            new byte[Batmap.sectorsFor(entries) * 512]);
    long end = batmap.mapOffset + batmap.map.length;
    List<ParentLocator> locs = new ArrayList<>();
    List<byte[]> locData = new ArrayList<>();
    UUID parentUuid = new UUID(0, 0);
    long parentTs = 0;
    String parentName = "";
    if (parentFooter != null) {
      parentUuid = parentFooter.uuid();
      parentTs = parentFooter.timestamp();
      parentName = parentNameOrNull;
      for (int code : new int[] {ParentLocator.MACX, ParentLocator.W2KU, ParentLocator.W2RU}) {
        byte[] d = ParentLocator.encodePath(code, parentName);
        if (d.length > 512) {
          throw new VhdFormatException("parent name '" + parentName + "' is too long");
        }
        locs.add(new ParentLocator(code, 512, d.length, end));
        locData.add(d);
        end += 512;
      }
    }
    while (locs.size() < 8) {
      locs.add(ParentLocator.NONE);
    }
    DynamicHeader h =
        new DynamicHeader(
            table,
            entries,
            DynamicHeader.DEFAULT_BLOCK_SIZE,
            parentUuid,
            parentTs,
            parentName,
            locs);
    byte[] fb = f.encode();
    ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(end + fb.length));
    all.put(0, fb);
    all.put((int) DynamicHeader.OFFSET, h.encode());
    byte[] batBuf = new byte[(int) batBytes];
    Arrays.fill(batBuf, (byte) 0xff); // every entry unused
    all.put((int) table, batBuf);
    all.put((int) batmapHeader, batmap.encodeHeader());
    all.put((int) batmap.mapOffset, batmap.map);
    for (int i = 0; i < locData.size(); i++) {
      all.put((int) locs.get(i).dataOffset(), locData.get(i));
    }
    all.put((int) end, fb);
    file.writeFully(all, 0);
  }

  private interface Writer {
    void write(ImageFile file) throws IOException;
  }

  private static VhdImage build(ImageStore store, String name, Writer w) throws IOException {
    write(store, name, w);
    store.syncMetadata();
    return VhdImage.open(store, name, true);
  }
}
