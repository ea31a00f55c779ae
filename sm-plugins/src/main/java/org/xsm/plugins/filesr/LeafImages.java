package org.xsm.plugins.filesr;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.qcow2.Qcow2Chain;
import org.xsm.plugins.qcow2.Qcow2Image;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.vhd.Vhd;
import org.xsm.plugins.vhd.VhdImage;

/**
 * What the live leaf-coalesce ({@link LiveLeafCoalesce}) needs of a leaf image and of its parent,
 * per format. The copy unit is a 2 MiB block (a VHD block; 32 qcow2 clusters of 64 KiB), with
 * 512-byte sectors inside, as {@link LeafWriteTracker} records writes.
 */
final class LeafImages {
  static final int BLOCK_BYTES = 2 * 1024 * 1024;
  private static final int SECTOR = 512;

  private LeafImages() {}

  /** The leaf, read in place: only what it holds itself. */
  interface Leaf {
    long virtualSizeBytes();

    /** Blocks in which the leaf holds anything. */
    BitSet allocatedBlocks() throws IOException;

    /**
     * Copies what the leaf holds of block {@code block} (only the sectors {@code sectors} names,
     * all when null) into {@code to} at the same disk offsets; returns the bytes copied. {@code to}
     * is not flushed.
     */
    long copyBlock(Parent to, int block, BitSet sectors, ByteBuffer buf) throws IOException;
  }

  /** A leaf image opened by the collector itself (the VDI is not active). */
  interface OwnLeaf extends Leaf, Closeable {}

  /** The parent, opened for writing. */
  interface Parent extends Closeable {
    long virtualSizeBytes();

    void resize(long sizeBytes) throws IOException;

    void flush() throws IOException;

    /** The copy unit and the tracker's block: the VHD's block size, 2 MiB for qcow2. */
    int blockSize();
  }

  /** The leaf of an active device's chain. */
  static Leaf of(Object chainLeaf) {
    if (chainLeaf instanceof VhdImage v) {
      return vhd(v);
    }
    return qcow2((Qcow2Image) chainLeaf);
  }

  static OwnLeaf openLeaf(ImageStore store, String file, ImageFormat f) throws IOException {
    if (f == ImageFormat.VHD) {
      VhdImage img = VhdImage.open(store, file, false);
      Leaf l = vhd(img);
      return own(l, img);
    }
    Qcow2Image img = Qcow2Image.open(store, file, false);
    return own(qcow2(img), img);
  }

  static Parent openParent(ImageStore store, String file, ImageFormat f) throws IOException {
    if (f == ImageFormat.VHD) {
      return new VhdParent(VhdImage.open(store, file, true));
    }
    return new Qcow2Parent(Qcow2Chain.open(store, file, true));
  }

  private static OwnLeaf own(Leaf l, Closeable c) {
    return new OwnLeaf() {
      @Override
      public long virtualSizeBytes() {
        return l.virtualSizeBytes();
      }

      @Override
      public BitSet allocatedBlocks() throws IOException {
        return l.allocatedBlocks();
      }

      @Override
      public long copyBlock(Parent to, int block, BitSet sectors, ByteBuffer buf)
          throws IOException {
        return l.copyBlock(to, block, sectors, buf);
      }

      @Override
      public void close() throws IOException {
        c.close();
      }
    };
  }

  private static Leaf vhd(VhdImage img) {
    return new Leaf() {
      @Override
      public long virtualSizeBytes() {
        return img.virtualSizeBytes();
      }

      @Override
      public BitSet allocatedBlocks() {
        return img.allocatedBlocks();
      }

      @Override
      public long copyBlock(Parent to, int block, BitSet sectors, ByteBuffer buf)
          throws IOException {
        return Vhd.copyBlock(img, ((VhdParent) to).img, block, sectors, buf);
      }
    };
  }

  private record VhdParent(VhdImage img) implements Parent {
    @Override
    public long virtualSizeBytes() {
      return img.virtualSizeBytes();
    }

    @Override
    public void resize(long sizeBytes) throws IOException {
      img.resize(sizeBytes);
    }

    @Override
    public void flush() throws IOException {
      img.flush();
    }

    @Override
    public int blockSize() {
      return img.blockSize();
    }

    @Override
    public void close() throws IOException {
      img.close();
    }
  }

  private record Qcow2Parent(Qcow2Chain chain) implements Parent {
    @Override
    public long virtualSizeBytes() {
      return chain.virtualSizeBytes();
    }

    @Override
    public void resize(long sizeBytes) throws IOException {
      chain.leaf().resize(sizeBytes);
    }

    @Override
    public void flush() throws IOException {
      chain.flush();
    }

    @Override
    public int blockSize() {
      return BLOCK_BYTES;
    }

    @Override
    public void close() throws IOException {
      chain.close();
    }
  }

  private static Leaf qcow2(Qcow2Image img) {
    return new Leaf() {
      @Override
      public long virtualSizeBytes() {
        return img.virtualSizeBytes();
      }

      @Override
      public BitSet allocatedBlocks() throws IOException {
        BitSet out = new BitSet();
        BitSet clusters = img.allocatedClusters();
        int bits = img.clusterBits();
        for (int c = clusters.nextSetBit(0); c >= 0; c = clusters.nextSetBit(c + 1)) {
          long from = ((long) c << bits) / BLOCK_BYTES;
          long to = ((((long) c + 1) << bits) - 1) / BLOCK_BYTES;
          out.set((int) from, (int) to + 1);
        }
        return out;
      }

      @Override
      public long copyBlock(Parent to, int block, BitSet sectors, ByteBuffer buf)
          throws IOException {
        Qcow2Chain into = ((Qcow2Parent) to).chain();
        long start = (long) block * BLOCK_BYTES;
        long end = Math.min(start + BLOCK_BYTES, img.virtualSizeBytes());
        int cs = img.clusterSize();
        long copied = 0;
        long c = start;
        while (c < end) {
          long clusterEnd = Math.min(end, (c / cs + 1) * cs);
          long pos = c;
          while (pos < clusterEnd) {
            // A run of the sectors to copy within this cluster (all of it without a sector map).
            int fromSector = (int) ((pos - start) / SECTOR);
            if (sectors != null) {
              fromSector = sectors.nextSetBit(fromSector);
              if (fromSector < 0 || start + (long) fromSector * SECTOR >= clusterEnd) {
                break;
              }
            }
            long runStart = start + (long) fromSector * SECTOR;
            long runEnd = clusterEnd;
            if (sectors != null) {
              runEnd =
                  Math.min(clusterEnd, start + (long) sectors.nextClearBit(fromSector) * SECTOR);
            }
            int len = (int) (runEnd - runStart);
            buf.clear().limit(len);
            if (img.readOwn(buf, runStart)) {
              buf.flip();
              into.write(buf, runStart);
              copied += len;
            }
            pos = runEnd;
          }
          c = clusterEnd;
        }
        return copied;
      }
    };
  }
}
