package org.xsm.plugins.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.xsm.plugins.store.FileRead;
import org.xsm.plugins.store.LayeredChain;
import org.xsm.plugins.store.ParallelReads;

/**
 * How one read of a {@link VhdChain} is served: first planned (which layer's file holds each byte
 * range, from the BATs and sector bitmaps, which are in memory), with ranges of one file that
 * follow each other merged into one read; then carried out by {@link ParallelReads}, in parallel
 * when the plan has reads of several files and enough bytes.
 */
final class ReadPlan {
  /** {@code length} bytes at {@code dstPos} of the read: from {@code layer}'s file, or zeros. */
  private record Piece(int layer, long fileOffset, int dstPos, int length) {
    static final int ZERO = -1;
  }

  /** Reads bytes of a layer's file for the plan (through read-ahead's buffers). */
  @FunctionalInterface
  interface LayerReader {
    void read(int layer, ByteBuffer dst, long fileOffset) throws IOException;
  }

  private final List<VhdImage> layers;
  private final LayerReader reader;
  private final List<Piece> pieces = new ArrayList<>();
  private int distinctFiles;
  private long lastLayerMask;

  ReadPlan(List<VhdImage> layers, LayerReader reader) {
    this.layers = layers;
    this.reader = reader;
  }

  /** Plans {@code length} bytes of the disk at {@code offset}, to land at {@code dstPos}. */
  ReadPlan plan(long offset, int dstPos, int length) throws IOException {
    layer(0, offset, dstPos, length);
    return this;
  }

  private void layer(int i, long off, int pos, int len) throws IOException {
    if (len == 0) {
      return;
    }
    if (i == layers.size()) {
      add(Piece.ZERO, 0, pos, len);
      return;
    }
    VhdImage l = layers.get(i);
    long size = l.virtualSizeBytes();
    if (off >= size) {
      add(Piece.ZERO, 0, pos, len);
      return;
    }
    if (off + len > size) {
      int inside = (int) (size - off);
      layer(i, off, pos, inside);
      add(Piece.ZERO, 0, pos + inside, len - inside);
      return;
    }
    if (l.isFixed()) {
      add(i, off, pos, len);
      return;
    }
    int bs = l.blockSize();
    while (len > 0) {
      int block = (int) (off / bs);
      int inBlock = (int) (off % bs);
      int n = Math.min(bs - inBlock, len);
      if (!l.isAllocated(block)) {
        layer(i + 1, off, pos, n);
      } else if (l.isFull(block)) {
        add(i, l.dataOffset(block) + inBlock, pos, n);
      } else {
        runs(i, l, block, (long) block * bs, inBlock, pos, n);
      }
      pos += n;
      off += n;
      len -= n;
    }
  }

  /** Part of an allocated, partly filled block: runs of present sectors from this layer. */
  private void runs(int i, VhdImage l, int block, long blockStart, int from, int pos, int len)
      throws IOException {
    byte[] bitmap = l.bitmap(block);
    long data = l.dataOffset(block);
    int at = from;
    int end = from + len;
    int lastSector = (end - 1) / 512;
    while (at < end) {
      int sector = at / 512;
      boolean present = Be.bit(bitmap, sector);
      int runEnd = Math.min(end, Be.runEnd(bitmap, sector + 1, lastSector + 1, present) * 512);
      int n = runEnd - at;
      if (present) {
        add(i, data + at, pos, n);
      } else {
        layer(i + 1, blockStart + at, pos, n);
      }
      pos += n;
      at = runEnd;
    }
  }

  private void add(int layer, long fileOffset, int pos, int len) {
    if (!pieces.isEmpty()) {
      Piece last = pieces.get(pieces.size() - 1);
      if (last.layer == layer
          && last.dstPos + last.length == pos
          && (layer == Piece.ZERO || last.fileOffset + last.length == fileOffset)) {
        pieces.set(
            pieces.size() - 1, new Piece(layer, last.fileOffset, last.dstPos, last.length + len));
        return;
      }
    }
    pieces.add(new Piece(layer, fileOffset, pos, len));
    if (layer != Piece.ZERO && layer < 64 && (lastLayerMask & (1L << layer)) == 0) {
      lastLayerMask |= 1L << layer;
      distinctFiles++;
    }
  }

  /** Carries the plan out into {@code dst} (offsets relative to {@code dst}'s position 0). */
  void execute(ByteBuffer dst, int totalBytes, boolean mayParallel) throws IOException {
    ParallelReads.run(
        reads(),
        dst,
        mayParallel && distinctFiles > 1 && totalBytes >= ParallelReads.PARALLEL_MIN_BYTES);
  }

  /** The plan's reads of files, for read-ahead (zeros need none). */
  List<FileRead> fileReads() {
    List<FileRead> reads = new ArrayList<>(pieces.size());
    for (Piece p : pieces) {
      if (p.layer != Piece.ZERO) {
        reads.add(new FileRead(p.layer, p.fileOffset, p.length, layers.get(p.layer)::readFile));
      }
    }
    return reads;
  }

  /** The plan's reads (zeros as cheap ones). */
  private List<ParallelReads.Piece> reads() {
    List<ParallelReads.Piece> reads = new ArrayList<>(pieces.size());
    for (Piece p : pieces) {
      if (p.layer == Piece.ZERO) {
        reads.add(new ParallelReads.Piece(LayeredChain::fillZeros, p.dstPos, p.length, true));
      } else {
        int layer = p.layer;
        long at = p.fileOffset;
        reads.add(
            new ParallelReads.Piece(
                part -> reader.read(layer, part, at), p.dstPos, p.length, false));
      }
    }
    return reads;
  }
}
