package org.xsm.plugins.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xsm.plugins.store.DiskChain;
import org.xsm.plugins.store.ForwardingImageStore;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.LocalImageStore;

/**
 * Read-ahead of chains ({@code store/ReadAhead}), both formats: sequential reads of a chain of
 * three layers make the read-ahead threads read the files ahead of the caller, what the caller
 * reads is the model all the same, and once the chain is closed no read of a closed file is issued.
 */
class ReadAheadTest {
  private static final int SIZE = 24 << 20;
  private static final int RUN = 64 * 1024;

  @TempDir Path dir;

  /** Files that note reads by read-ahead threads and any read of a closed file. */
  private static final class WatchedStore extends ForwardingImageStore {
    final CountDownLatch readAhead = new CountDownLatch(1);
    final List<String> readsAfterClose = new CopyOnWriteArrayList<>();

    WatchedStore(ImageStore delegate) {
      super(delegate);
    }

    @Override
    public ImageFile open(String name, boolean writable) throws IOException {
      ImageFile f = delegate.open(name, writable);
      return new org.xsm.plugins.store.ForwardingImageFile(f) {
        private volatile boolean closed;

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
          if (closed) {
            readsAfterClose.add(name + " at " + position);
          }
          if (Thread.currentThread().getName().startsWith("read-ahead-")) {
            readAhead.countDown();
          }
          return f.read(dst, position);
        }

        @Override
        public void close() throws IOException {
          closed = true;
          f.close();
        }
      };
    }
  }

  @ParameterizedTest
  @EnumSource(ImageFormat.class)
  void sequentialReadsOfAChainAreReadAheadAndCloseEndsThem(ImageFormat format) throws Exception {
    WatchedStore store = new WatchedStore(LocalImageStore.open(dir));
    byte[] model = new byte[SIZE];
    String ext = "." + format.wireName();
    format.create(store, "l0" + ext, SIZE);
    Random rnd = new Random(5);
    for (int layer = 0; layer < 3; layer++) {
      if (layer > 0) {
        format.snapshot(store, "l" + layer + ext, "l" + (layer - 1) + ext);
      }
      try (DiskChain c = format.open(store, "l" + layer + ext, true)) {
        for (long off = (long) layer * RUN; off < SIZE; off += 3L * RUN) {
          byte[] run = new byte[RUN];
          rnd.nextBytes(run);
          c.write(ByteBuffer.wrap(run), off);
          System.arraycopy(run, 0, model, (int) off, RUN);
        }
      }
    }
    for (int round = 0; round < 2; round++) {
      try (DiskChain c = format.open(store, "l2" + ext, false)) {
        ByteBuffer b = ByteBuffer.allocate(1 << 20);
        for (int off = 0; off < SIZE; off += b.capacity()) {
          c.read(b.clear(), off);
          assertThat(Arrays.mismatch(b.array(), 0, b.capacity(), model, off, off + b.capacity()))
              .as("read at %d", off)
              .isEqualTo(-1);
          if (round == 0 && off == 4 << 20) {
            assertThat(store.readAhead.await(30, TimeUnit.SECONDS))
                .as("a read-ahead thread read a file")
                .isTrue();
          }
        }
      }
    }
    for (int round = 0; round < 20; round++) {
      // Closed just after the third sequential read started a window of read-ahead.
      try (DiskChain c = format.open(store, "l2" + ext, false)) {
        ByteBuffer b = ByteBuffer.allocate(1 << 20);
        for (int off = 0; off < 3 << 20; off += b.capacity()) {
          c.read(b.clear(), off);
        }
      }
    }
    assertThat(store.readsAfterClose).isEmpty();
  }
}
