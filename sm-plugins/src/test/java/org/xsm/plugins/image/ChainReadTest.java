package org.xsm.plugins.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xsm.plugins.store.DiskChain;
import org.xsm.plugins.store.LocalImageStore;

/**
 * Chain reads large enough and spread over enough layers to be read in parallel (ParallelReads),
 * for both formats, against a model of the disk: layer i holds runs at offsets i, i + 6, ... (in
 * units of 24 KiB, so runs straddle clusters, sectors of VHD blocks and block ends), the top layer
 * zeroes some of what is below, and reads of many sizes and alignments must see exactly the model.
 */
class ChainReadTest {
  private static final int SIZE = 8 << 20;
  private static final int UNIT = 24 * 1024;

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(ImageFormat.class)
  void parallelReadsOfAFragmentedChainSeeTheModel(ImageFormat format) throws IOException {
    LocalImageStore store = LocalImageStore.open(dir);
    byte[] model = new byte[SIZE];
    String ext = "." + format.wireName();
    format.create(store, "l0" + ext, SIZE);
    Random rnd = new Random(7);
    int layers = 6;
    for (int layer = 0; layer < layers; layer++) {
      if (layer > 0) {
        format.snapshot(store, "l" + layer + ext, "l" + (layer - 1) + ext);
      }
      try (DiskChain c = format.open(store, "l" + layer + ext, true)) {
        for (long u = layer; (u + 1) * UNIT <= SIZE; u += layers) {
          byte[] run = new byte[UNIT];
          if (layer == layers - 1 && u % 4 == 1) {
            Arrays.fill(run, (byte) 0); // the top layer writes zeros over older data
          } else {
            rnd.nextBytes(run);
          }
          c.write(ByteBuffer.wrap(run), u * UNIT);
          System.arraycopy(run, 0, model, (int) (u * UNIT), UNIT);
        }
        c.flush();
      }
    }
    try (DiskChain c = format.open(store, "l" + (layers - 1) + ext, false)) {
      assertThat(c.depth()).isEqualTo(layers);
      // Buffers hold garbage first: what reads as zeros must be written as zeros.
      ByteBuffer all = ByteBuffer.allocate(SIZE);
      Arrays.fill(all.array(), (byte) 0x5a);
      c.read(all, 0);
      assertThat(all.position()).isEqualTo(SIZE);
      assertThat(Arrays.mismatch(all.array(), model)).as("first differing byte").isEqualTo(-1);
      for (int i = 0; i < 200; i++) {
        int len = 1 + rnd.nextInt(3 << 20);
        int off = rnd.nextInt(SIZE - len + 1);
        // Within a bigger buffer, at a non-zero position: the read must fill exactly its part.
        ByteBuffer b = ByteBuffer.allocate(len + 100);
        Arrays.fill(b.array(), 37, 37 + len, (byte) 0x5a);
        b.position(37).limit(37 + len);
        c.read(b, off);
        assertThat(b.position()).isEqualTo(37 + len);
        byte[] got = Arrays.copyOfRange(b.array(), 37, 37 + len);
        assertThat(Arrays.mismatch(got, 0, len, model, off, off + len))
            .as("read of %d bytes at %d", len, off)
            .isEqualTo(-1);
        assertThat(b.array()[36]).isZero();
        assertThat(b.array()[37 + len]).isZero();
      }
    }
  }
}
