package org.xsm.plugins.vhd;

/** Disk geometry as stored in the footer (cylinders, heads, sectors per track). */
public record Geometry(int cylinders, int heads, int sectorsPerTrack) {

  /** Sectors addressed by this geometry. */
  public long totalSectors() {
    return (long) cylinders * heads * sectorsPerTrack;
  }

  /** The largest geometry the footer can hold: 65535 x 16 x 255. */
  public static final long MAX_GEOMETRY_SECTORS = 65535L * 16 * 255;

  /** The geometry for a disk size, by the algorithm in the VHD specification's appendix. */
  public static Geometry forSize(long sizeBytes) {
    long total = sizeBytes / 512;
    if (total > MAX_GEOMETRY_SECTORS) {
      total = MAX_GEOMETRY_SECTORS;
    }
    long spt;
    long heads;
    long cth;
    if (total >= 65535L * 16 * 63) {
      spt = 255;
      heads = 16;
      cth = total / spt;
    } else {
      spt = 17;
      cth = total / spt;
      heads = (cth + 1023) / 1024;
      if (heads < 4) {
        heads = 4;
      }
      if (cth >= heads * 1024 || heads > 16) {
        spt = 31;
        heads = 16;
        cth = total / spt;
      }
      if (cth >= heads * 1024) {
        spt = 63;
        heads = 16;
        cth = total / spt;
      }
    }
    return new Geometry((int) (cth / heads), (int) heads, (int) spt);
  }
}
