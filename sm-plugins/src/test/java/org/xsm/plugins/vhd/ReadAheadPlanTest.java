package org.xsm.plugins.vhd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.plugins.store.FileRead;
import org.xsm.plugins.store.FileReads;
import org.xsm.plugins.store.LocalImageStore;

/**
 * What read-ahead fetches of a VHD chain ({@link VhdChain#planReads}, ordered and merged by {@link
 * FileReads} as read-ahead does): for every sector of a range, the file read covering it is of the
 * layer that holds the sector and reads there the bytes the disk has; reads start and end on
 * sectors the range needs, and what they read in between is at most a merge gap. The chain has runs
 * interleaved over four layers, runs across block boundaries, sub-block and odd-sector runs (partly
 * set bitmaps), a whole-block layer and holes (sectors no layer holds).
 */
class ReadAheadPlanTest {
  private static final int SECTOR = 512;
  private static final int BLOCK = 2 << 20;
  private static final int SIZE = 5 * BLOCK;
  private static final int GAP = 64 * 1024;
  private static final int MAX_READ = 1 << 20;

  @TempDir Path dir;

  @Test
  void readAheadReadsExactlyTheSectorsEachLayerHolds() throws IOException {
    LocalImageStore store = LocalImageStore.open(dir);
    Random rnd = new Random(23);
    byte[] model = new byte[SIZE];
    int depth = 4;
    // owner[s]: the layer (0 = base) that holds sector s, or -1.
    int[] owner = new int[SIZE / SECTOR];
    Arrays.fill(owner, -1);
    Vhd.create(store, "l0.vhd", SIZE, false);
    for (int layer = 0; layer < depth; layer++) {
      if (layer > 0) {
        Vhd.snapshot(store, "l" + layer + ".vhd", "l" + (layer - 1) + ".vhd");
      }
      try (VhdChain c = VhdChain.open(store, "l" + layer + ".vhd", true)) {
        if (layer == 0) {
          // Block 1 whole; block 3 left empty (a hole through the chain below the upper runs).
          write(c, model, owner, layer, BLOCK, BLOCK, rnd);
        }
        if (layer == 1) {
          // 64 KiB runs every 192 KiB, one across each block boundary.
          for (int off = 0; off + 64 * 1024 <= SIZE; off += 192 * 1024) {
            write(c, model, owner, layer, off, 64 * 1024, rnd);
          }
          write(c, model, owner, layer, 2 * BLOCK - 20 * SECTOR, 60 * SECTOR, rnd);
        }
        if (layer >= 2) {
          // Short runs at odd sectors: partly set bitmaps, some next to or over lower runs.
          for (int i = 0; i < 300; i++) {
            int sectors = 1 + rnd.nextInt(layer == 2 ? 9 : 200);
            int at = rnd.nextInt(SIZE / SECTOR - sectors) * SECTOR;
            write(c, model, owner, layer, at, sectors * SECTOR, rnd);
          }
          // One exactly at a block boundary, both sides.
          write(c, model, owner, layer, 4 * BLOCK - 3 * SECTOR, 7 * SECTOR, rnd);
        }
        c.flush();
      }
    }
    try (VhdChain c = VhdChain.open(store, "l" + (depth - 1) + ".vhd", false)) {
      List<VhdImage> layers = c.layers();
      for (int i = 0; i < 300; i++) {
        int len = SECTOR * (1 + rnd.nextInt(MAX_READ / SECTOR));
        int off = SECTOR * rnd.nextInt((SIZE - len) / SECTOR + 1);
        List<FileRead> reads = FileReads.ordered(c.planReads(off, len), GAP, MAX_READ);
        byte[][] got = new byte[reads.size()][];
        for (int r = 0; r < reads.size(); r++) {
          FileRead x = reads.get(r);
          ByteBuffer b = ByteBuffer.allocate(x.length());
          x.reader().read(b, x.offset());
          got[r] = b.array();
        }
        boolean[][] needed = new boolean[reads.size()][];
        for (int r = 0; r < reads.size(); r++) {
          needed[r] = new boolean[reads.get(r).length() / SECTOR];
        }
        for (int s = off / SECTOR; s < (off + len) / SECTOR; s++) {
          if (owner[s] < 0) {
            continue;
          }
          int file = depth - 1 - owner[s];
          long at = layers.get(file).dataOffset(s * SECTOR / BLOCK) + (long) s * SECTOR % BLOCK;
          int r = covering(reads, file, at);
          assertThat(r)
              .as("range %d+%d: sector %d (file %d at %d) read", off, len, s, file, at)
              .isNotNegative();
          int in = (int) (at - reads.get(r).offset());
          assertThat(Arrays.mismatch(got[r], in, in + SECTOR, model, s * SECTOR, (s + 1) * SECTOR))
              .as("range %d+%d: bytes of sector %d", off, len, s)
              .isEqualTo(-1);
          needed[r][in / SECTOR] = true;
        }
        for (int r = 0; r < reads.size(); r++) {
          assertThat(reads.get(r).offset() % SECTOR).isZero();
          assertThat(reads.get(r).length() % SECTOR).isZero();
          boolean[] n = needed[r];
          assertThat(n[0] && n[n.length - 1])
              .as("range %d+%d: read %s starts and ends on needed sectors", off, len, reads.get(r))
              .isTrue();
          int unneeded = 0;
          for (boolean x : n) {
            unneeded = x ? 0 : unneeded + 1;
            assertThat(unneeded * SECTOR)
                .as("gap read in %s", reads.get(r))
                .isLessThanOrEqualTo(GAP);
          }
        }
      }
    }
  }

  private static int covering(List<FileRead> reads, int file, long at) {
    for (int r = 0; r < reads.size(); r++) {
      FileRead x = reads.get(r);
      if (x.file() == file && x.offset() <= at && at + SECTOR <= x.end()) {
        return r;
      }
    }
    return -1;
  }

  private static void write(
      VhdChain c, byte[] model, int[] owner, int layer, int off, int len, Random rnd)
      throws IOException {
    byte[] data = new byte[len];
    rnd.nextBytes(data);
    c.write(ByteBuffer.wrap(data), off);
    System.arraycopy(data, 0, model, off, len);
    Arrays.fill(owner, off / SECTOR, (off + len) / SECTOR, layer);
  }
}
