package org.xsm.server.migrate;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.xsm.api.VdiDevice;

class MirrorDeviceTest {
  private static final int BLOCK = 64 * 1024;

  /** A disk in memory; writes are whole under a lock, as a real device's are. */
  static class Memory implements VdiDevice {
    final byte[] bytes;

    Memory(int size) {
      bytes = new byte[size];
    }

    @Override
    public long sizeBytes() {
      return bytes.length;
    }

    @Override
    public boolean readOnly() {
      return false;
    }

    @Override
    public void read(ByteBuffer dst, long off) {
      synchronized (this) {
        dst.put(bytes, (int) off, dst.remaining());
      }
    }

    @Override
    public synchronized void write(ByteBuffer src, long off) {
      src.get(bytes, (int) off, src.remaining());
    }

    @Override
    public void flush() {}
  }

  @Test
  void writesDuringTheCopyEndOnBothSides() throws Exception {
    for (int round = 0; round < 20; round++) {
      int size = 64 * BLOCK;
      Memory source = new Memory(size);
      new Random(round).nextBytes(source.bytes); // what was there before the move
      Memory dest = new Memory(size);
      MirrorDevice mirror = new MirrorDevice(source, dest, BLOCK);
      int writers = 4;
      ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> jobs = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int id = w;
        int seed = round * 31 + w;
        jobs.add(
            pool.submit(
                () -> {
                  go.await();
                  Random r = new Random(seed);
                  for (int i = 0; i < 300; i++) {
                    // Writer w owns the 4 KiB pieces whose index % writers == w; a write spans 1-3
                    // of its pieces' positions, across block edges, so writes and copies overlap.
                    int piece = r.nextInt(size / 4096 / writers) * writers + id;
                    int len = 4096;
                    byte[] data = new byte[len];
                    r.nextBytes(data);
                    mirror.write(ByteBuffer.wrap(data), (long) piece * 4096);
                  }
                  return null;
                }));
      }
      jobs.add(
          pool.submit(
              () -> {
                go.await();
                ByteBuffer buf = ByteBuffer.allocate(BLOCK);
                for (int b = 0; b < size / BLOCK; b++) {
                  mirror.copy(b, buf);
                }
                return null;
              }));
      go.countDown();
      for (Future<?> f : jobs) {
        f.get(60, TimeUnit.SECONDS);
      }
      pool.shutdown();
      assertThat(dest.bytes).as("round %d", round).isEqualTo(source.bytes);
    }
  }

  /**
   * The interleaving that a missing lock would get wrong, forced: while the copy of block 0 has
   * read the source and not yet written the destination, a guest write to block 0 is started, and
   * given 300 ms to finish. With the block locked it cannot, and lands after the copy; without the
   * lock it would finish first and the copy would then put the old bytes over it on the
   * destination.
   */
  @Test
  void aWriteCannotSlipBetweenACopysReadAndWrite() throws Exception {
    Memory dest = new Memory(2 * BLOCK);
    java.util.concurrent.atomic.AtomicReference<Thread> writer =
        new java.util.concurrent.atomic.AtomicReference<>();
    byte[] fresh = new byte[4096];
    java.util.Arrays.fill(fresh, (byte) 0x5a);
    MirrorDevice[] mirror = new MirrorDevice[1];
    Memory source =
        new Memory(2 * BLOCK) {
          @Override
          public void read(ByteBuffer dst, long off) {
            super.read(dst, off);
            if (Thread.currentThread().getName().equals("copier") && writer.get() == null) {
              Thread w =
                  new Thread(
                      () -> {
                        try {
                          mirror[0].write(ByteBuffer.wrap(fresh), 0);
                        } catch (Exception e) {
                          throw new IllegalStateException(e);
                        }
                      });
              writer.set(w);
              w.start();
              try {
                w.join(300); // bounded: with the lock held it cannot end here in any case
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          }
        };
    mirror[0] = new MirrorDevice(source, dest, BLOCK);
    Thread copier =
        new Thread(
            () -> {
              try {
                mirror[0].copy(0, ByteBuffer.allocate(BLOCK));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "copier");
    copier.start();
    copier.join(30_000);
    writer.get().join(30_000);
    byte[] head = new byte[4096];
    System.arraycopy(dest.bytes, 0, head, 0, 4096);
    assertThat(head).as("the guest's write survives on the destination").isEqualTo(fresh);
  }

  @Test
  void aWriteAcrossBlocksIsWholeOnBothAndReadsComeFromTheSource() throws Exception {
    Memory source = new Memory(4 * BLOCK);
    Memory dest = new Memory(4 * BLOCK);
    MirrorDevice mirror = new MirrorDevice(source, dest, BLOCK);
    byte[] data = new byte[BLOCK + 100];
    new Random(7).nextBytes(data);
    mirror.write(ByteBuffer.wrap(data), BLOCK - 50);
    ByteBuffer back = ByteBuffer.allocate(data.length);
    mirror.read(back, BLOCK - 50);
    assertThat(back.array()).isEqualTo(data);
    byte[] onDest = new byte[data.length];
    System.arraycopy(dest.bytes, BLOCK - 50, onDest, 0, data.length);
    assertThat(onDest).isEqualTo(data);
    source.bytes[0] = 9; // not yet copied: the destination still lacks it
    assertThat(dest.bytes[0]).isZero();
    mirror.copy(0, ByteBuffer.allocate(BLOCK));
    assertThat(dest.bytes[0]).isEqualTo((byte) 9);
  }
}
