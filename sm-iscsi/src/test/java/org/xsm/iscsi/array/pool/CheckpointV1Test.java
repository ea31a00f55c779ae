package org.xsm.iscsi.array.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pool whose checkpoint is in the format before data destroy ({@code XSMPOOL1}) still opens. */
class CheckpointV1Test {
  private static final int B = BlockPool.BLOCK_SIZE;
  private static final long CAPACITY = 64L << 20;

  @TempDir Path dir;

  /** The XSMPOOL1 layout, as arrays before data destroy wrote it. */
  private static void writeV1(Path dir, PoolState s, long nextSeq) throws IOException {
    CRC32C crc = new CRC32C();
    try (OutputStream fos = Files.newOutputStream(dir.resolve("pool.ckpt"))) {
      DataOutputStream out = new DataOutputStream(new CheckedOutputStream(fos, crc));
      Checkpoint.writeHead(out, Checkpoint.MAGIC_V1, s, nextSeq);
      for (Lun lun : s.allLuns()) {
        lun.writeDescriptor(out); // no data-destroyed flag in v1
        out.writeInt(lun.map.length());
        for (int c = 0; c < lun.map.chunkCount(); c++) {
          int[] chunk = lun.map.chunk(c);
          out.writeBoolean(chunk != null);
          for (int i = 0; chunk != null && i < chunk.length; i++) {
            out.writeInt(chunk[i]);
          }
        }
      }
      out.flush();
      new DataOutputStream(fos).writeInt((int) crc.getValue());
    }
  }

  private static long magic(Path dir) throws IOException {
    try (DataInputStream in = new DataInputStream(Files.newInputStream(dir.resolve("pool.ckpt")))) {
      return in.readLong();
    }
  }

  @Test
  void aV1CheckpointOpensAndTheNextOneIsV2() throws IOException {
    byte[] data = new byte[3 * B];
    new Random(9).nextBytes(data);
    LunInfo a;
    LunInfo s;
    BlockPool pool = BlockPool.open(dir, CAPACITY);
    a = pool.luns().create("a", 1 << 20, Map.of("k", "v"));
    pool.write(a.lun(), 5L * B, data, 0, data.length);
    s = pool.luns().snapshot(a.id(), "s", Map.of());
    pool.flush();
    writeV1(dir, pool.state, pool.journal.nextSeq());
    pool.abandon(); // as if the old array had stopped: only the v1 checkpoint counts
    assertThat(magic(dir)).isEqualTo(Checkpoint.MAGIC_V1);

    pool = BlockPool.open(dir, CAPACITY);
    try {
      byte[] back = new byte[data.length];
      pool.read(a.lun(), 5L * B, back, 0, back.length);
      assertThat(back).isEqualTo(data);
      assertThat(pool.luns().info(a.id()).metadata()).isEqualTo(Map.of("k", "v"));
      assertThat(pool.stats().physicalUsedBytes()).isEqualTo(3L * B);
      pool.write(a.lun(), 0, data, 0, B);
      pool.luns().dataDestroy(s.id(), null);
    } finally {
      pool.close();
    }
    assertThat(magic(dir)).isEqualTo(Checkpoint.MAGIC);
    pool = BlockPool.open(dir, CAPACITY);
    try {
      BitSet first = new BitSet();
      first.set(0);
      assertThat(pool.luns().changedBlocks(a.id(), s.id()).changed()).isEqualTo(first);
      assertThat(pool.luns().info(s.id()).dataDestroyed()).isTrue();
    } finally {
      pool.close();
    }
  }
}
