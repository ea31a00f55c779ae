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
import org.xsm.plugins.qcow2.Qcow2Chain;
import org.xsm.plugins.store.DiskChain;
import org.xsm.plugins.store.LayeredChain;
import org.xsm.plugins.store.LocalImageStore;

/**
 * Read-ahead hands what it read to the chain's reads ({@code store/Prefetched}): both formats, a
 * chain of four layers whose writes start and end at odd sectors and mid-sector, read sequentially
 * so that a window is read ahead; then the leaf is written (over bytes read ahead of the leaf, over
 * bytes read ahead of a parent, at odd offsets) and the same bytes read again must be the new ones,
 * never what read-ahead held. The model is a byte array written alongside.
 */
class HandedReadAheadTest {
  private static final int SIZE = 16 << 20;
  private static final int MIB = 1 << 20;

  @TempDir Path dir;

  private final byte[] model = new byte[SIZE];
  private final Random rnd = new Random(11);
  private LocalImageStore store;
  private String leaf;

  private void write(DiskChain c, long off, int len) throws IOException {
    byte[] data = new byte[len];
    rnd.nextBytes(data);
    c.write(ByteBuffer.wrap(data), off);
    System.arraycopy(data, 0, model, (int) off, len);
  }

  /** Layers 0..3 ({@code l3} the leaf); layer i holds odd-sized runs at a stride of its own. */
  private String buildChain(ImageFormat format) throws IOException {
    store = LocalImageStore.open(dir);
    String ext = "." + format.wireName();
    format.create(store, "l0" + ext, SIZE);
    for (int layer = 0; layer < 4; layer++) {
      if (layer > 0) {
        format.snapshot(store, "l" + layer + ext, "l" + (layer - 1) + ext);
      }
      try (DiskChain c = format.open(store, "l" + layer + ext, true)) {
        int stride = (layer + 2) * 37 * 1024 + 512 * (layer + 1);
        for (long off = layer * 4099L; off + 70_000 < SIZE; off += stride) {
          write(c, off, 20_000 + 511 * layer);
        }
      }
    }
    return "l3" + ext;
  }

  private void readAndCheck(DiskChain c, long from, long to) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(MIB);
    for (long off = from; off < to; off += MIB) {
      c.read(b.clear(), off);
      assertThat(Arrays.mismatch(b.array(), 0, MIB, model, (int) off, (int) off + MIB))
          .as("first wrong byte of the 1 MiB read at %d", off)
          .isEqualTo(-1);
    }
  }

  /**
   * Builds the chain and opens it; three sequential reads start a window of read-ahead at 3 MiB,
   * which is read before this returns.
   */
  private LayeredChain<?> openReadingAhead(ImageFormat format, boolean writable) throws Exception {
    leaf = buildChain(format);
    LayeredChain<?> chain = (LayeredChain<?>) format.open(store, leaf, writable);
    readAndCheck(chain, 0, 3L * MIB);
    chain.awaitReadAhead();
    return chain;
  }

  @ParameterizedTest
  @EnumSource(ImageFormat.class)
  void readsAfterWritesNeverSeeWhatReadAheadHeld(ImageFormat format) throws Exception {
    try (LayeredChain<?> c = openReadingAhead(format, true)) {
      // Over what the leaf holds (read ahead of layer 3's file), over a parent's bytes (now the
      // leaf's, at new places in its file), and odd sectors and partial sectors across both.
      write(c, 3L * MIB, MIB);
      write(c, 4L * MIB + 1234, 77_777);
      for (long off = 5L * MIB + 513; off < 6L * MIB; off += 4096 * 7 + 3) {
        write(c, off, 1000);
      }
      readAndCheck(c, 3L * MIB, 7L * MIB);
      assertThat(c.readAheadHandedBytes())
          .as("read-ahead handed bytes to the reads (else this test tests nothing)")
          .isPositive();
      readAndCheck(c, 7L * MIB, SIZE);
      c.flush();
    }
    try (DiskChain c = format.open(store, leaf, true)) {
      // Again, now writing while the window ahead may be in flight: whichever ends first, reads
      // after the write see it.
      readAndCheck(c, 0, 3L * MIB);
      write(c, 3L * MIB + 4096, 3 * MIB);
      readAndCheck(c, 3L * MIB, 8L * MIB);
    }
    try (DiskChain c = format.open(store, leaf, false)) {
      readAndCheck(c, 0, SIZE);
    }
  }

  @ParameterizedTest
  @EnumSource(ImageFormat.class)
  void wholeChainReadsEqualTheModelWithReadAheadHandingOver(ImageFormat format) throws Exception {
    try (LayeredChain<?> c = openReadingAhead(format, false)) {
      readAndCheck(c, 3L * MIB, SIZE);
      assertThat(c.readAheadHandedBytes()).isPositive();
      // A jump back and a second pass: what was read ahead for the first pass is not reused
      // wrongly.
      readAndCheck(c, 0, SIZE);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = ImageFormat.class,
      names = {"QCOW2"})
  void zeroingWhatWasReadAheadReadsZeros(ImageFormat format) throws Exception {
    try (LayeredChain<?> c = openReadingAhead(format, true)) {
      ((Qcow2Chain) c).zero(3L * MIB + 100, 2L * MIB);
      Arrays.fill(model, 3 * MIB + 100, 5 * MIB + 100, (byte) 0);
      readAndCheck(c, 3L * MIB, 7L * MIB);
    }
  }
}
