package org.xsm.plugins.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.xsm.plugins.store.ImageFile;

/**
 * What opening a VHD file finds, validated: footer (the primary, or the copy at offset 0 when the
 * primary is damaged), dynamic header, BAT, batmap, and where the primary footer belongs. Every
 * check fails with one {@link VhdFormatException} naming the file and the check. Reading only: the
 * repair of a recovered footer is {@link VhdImage}'s.
 */
final class VhdLayout {
  private final ImageFile file;
  private final String where;

  VhdFooter footer;
  DynamicHeader header;
  int[] bat;
  Batmap batmap;

  /** Where the primary footer is (or, if {@link #recovered}, belongs). */
  long footerOffset;

  /** Whether the primary footer was damaged and the copy at offset 0 was used. */
  boolean recovered;

  private VhdLayout(ImageFile file, String where) {
    this.file = file;
    this.where = where;
  }

  static VhdLayout read(ImageFile file, String where) throws IOException {
    VhdLayout l = new VhdLayout(file, where);
    l.load();
    return l;
  }

  private byte[] readBytes(long off, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len);
    file.readFully(b, off);
    return b.array();
  }

  private void load() throws IOException {
    long size = file.size();
    if (size < VhdFooter.SIZE) {
      throw new VhdFormatException(
          "VHD " + where + " is " + size + " bytes long, too small to hold a footer");
    }
    byte[] primaryBytes = readBytes(size - VhdFooter.SIZE, VhdFooter.SIZE);
    VhdFooter primary = null;
    VhdFormatException primaryError = null;
    try {
      primary = VhdFooter.decode(primaryBytes, "footer in " + where);
    } catch (VhdFormatException e) {
      primaryError = e;
    }
    if (primary != null && primary.diskType() == DiskType.FIXED) {
      footer = primary;
      footerOffset = size - VhdFooter.SIZE;
      if (footerOffset != primary.currentSizeBytes()) {
        throw new VhdFormatException(
            "VHD "
                + where
                + ": fixed disk of "
                + primary.currentSizeBytes()
                + " bytes has "
                + footerOffset
                + " bytes of data before its footer");
      }
      return;
    }
    byte[] copyBytes = readBytes(0, VhdFooter.SIZE);
    VhdFooter copy;
    try {
      copy = VhdFooter.decode(copyBytes, "backup footer (offset 0) in " + where);
    } catch (VhdFormatException e) {
      throw primaryError != null ? primaryError : e;
    }
    if (primary == null) {
      if (copy.diskType() == DiskType.FIXED) {
        throw primaryError;
      }
      recovered = true;
      footer = copy;
    } else {
      if (!Arrays.equals(primaryBytes, copyBytes)) {
        throw new VhdFormatException(
            "VHD " + where + ": footer and its backup copy at offset 0 differ");
      }
      footer = primary;
      footerOffset = size - VhdFooter.SIZE;
    }
    loadDynamic(size);
  }

  private void loadDynamic(long size) throws IOException {
    header = DynamicHeader.decode(readBytes(512, DynamicHeader.SIZE), "dynamic header in " + where);
    long needed = VhdImage.ceilDiv(footer.virtualSizeBytes(), header.blockSizeBytes());
    if (header.maxTableEntries() < needed) {
      throw new VhdFormatException(
          "VHD "
              + where
              + ": "
              + header.maxTableEntries()
              + " BAT entries of "
              + header.blockSizeBytes()
              + " bytes cannot hold the virtual size "
              + footer.virtualSizeBytes());
    }
    boolean diff = footer.diskType() == DiskType.DIFFERENCING;
    if (diff && (Be.isNil(header.parentUuid()) || header.parentName().isEmpty())) {
      throw new VhdFormatException(
          "VHD " + where + ": differencing disk without parent UUID or parent name");
    }
    if (!diff
        && (!Be.isNil(header.parentUuid())
            || !header.parentName().isEmpty()
            || header.locators().stream().anyMatch(ParentLocator::isUsed))) {
      throw new VhdFormatException(
          "VHD " + where + ": dynamic disk has parent fields set (only differencing disks may)");
    }
    int n = header.maxTableEntries();
    long batEnd = header.tableOffset() + 4L * n;
    long limit = recovered ? size : footerOffset;
    if (batEnd > limit) {
      throw new VhdFormatException(
          "VHD " + where + ": BAT at " + header.tableOffset() + " runs past the end of the file");
    }
    ByteBuffer bb = ByteBuffer.allocate(4 * n);
    file.readFully(bb, header.tableOffset());
    bb.flip();
    bat = new int[n];
    bb.asIntBuffer().get(bat);
    List<long[]> regions = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    addRegion(regions, labels, 0, 512, "backup footer");
    addRegion(regions, labels, 512, 1536, "dynamic header");
    addRegion(regions, labels, header.tableOffset(), batEnd, "BAT");
    if (footer.expectsBatmap()) {
      long hOff = header.tableOffset() + Be.pad512(4L * n);
      if (hOff + Batmap.HEADER_SIZE > limit) {
        throw new VhdFormatException("VHD " + where + ": batmap header runs past the end");
      }
      byte[] h = readBytes(hOff, Batmap.HEADER_SIZE);
      batmap = Batmap.decodeHeader(h, n, where);
      if (batmap.mapOffset + batmap.map.length > limit) {
        throw new VhdFormatException("VHD " + where + ": batmap runs past the end of the file");
      }
      file.readFully(ByteBuffer.wrap(batmap.map), batmap.mapOffset);
      batmap.verify(h, where);
      addRegion(regions, labels, hOff, hOff + Batmap.HEADER_SIZE, "batmap header");
      addRegion(regions, labels, batmap.mapOffset, batmap.mapOffset + batmap.map.length, "batmap");
    }
    List<ParentLocator> locs = header.locators();
    for (int i = 0; i < locs.size(); i++) {
      ParentLocator l = locs.get(i);
      if (l.isUsed()) {
        long end = l.dataOffset() + Math.max(512, l.dataSpaceBytes());
        addRegion(regions, labels, l.dataOffset(), end, "parent locator " + i);
      }
    }
    long blockSpan = Be.pad512(header.blockSizeBytes() / 512 / 8) + (long) header.blockSizeBytes();
    for (int i = 0; i < n; i++) {
      if (bat[i] != VhdImage.UNUSED) {
        long off = Integer.toUnsignedLong(bat[i]) * 512;
        addRegion(regions, labels, off, off + blockSpan, "block " + i);
      }
    }
    long end = checkRegions(regions, labels, limit);
    validateLocators();
    if (recovered) {
      footerOffset = Be.pad512(end);
    }
  }

  private static void addRegion(
      List<long[]> regions, List<String> labels, long start, long end, String label) {
    regions.add(new long[] {start, end, labels.size()});
    labels.add(label);
  }

  private long checkRegions(List<long[]> regions, List<String> labels, long limit)
      throws VhdFormatException {
    regions.sort((a, b) -> Long.compare(a[0], b[0]));
    long end = 0;
    long[] prev = null;
    for (long[] r : regions) {
      if (r[1] > limit) {
        throw new VhdFormatException(
            "VHD "
                + where
                + ": "
                + labels.get((int) r[2])
                + " at byte "
                + r[0]
                + " runs past the end of the data at byte "
                + limit);
      }
      if (prev != null && r[0] < prev[1]) {
        throw new VhdFormatException(
            "VHD "
                + where
                + ": "
                + labels.get((int) r[2])
                + " at byte "
                + r[0]
                + " overlaps "
                + labels.get((int) prev[2])
                + " at byte "
                + prev[0]);
      }
      prev = r;
      end = Math.max(end, r[1]);
    }
    return end;
  }

  private void validateLocators() throws IOException {
    List<ParentLocator> locs = header.locators();
    for (int i = 0; i < locs.size(); i++) {
      ParentLocator l = locs.get(i);
      if (!l.isUsed()) {
        continue;
      }
      String base =
          ParentLocator.decodeBaseName(l.code(), readBytes(l.dataOffset(), l.dataLength()));
      if (base != null && !base.equals(header.parentName())) {
        throw new VhdFormatException(
            "VHD "
                + where
                + ": parent locator "
                + i
                + " ("
                + ParentLocator.codeName(l.code())
                + ") names '"
                + base
                + "' but the parent name is '"
                + header.parentName()
                + "'");
      }
    }
  }
}
