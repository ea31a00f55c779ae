package org.xsm.iscsi.array.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.iscsi.array.pool.BlockPool;
import org.xsm.iscsi.array.pool.LunInfo;
import org.xsm.iscsi.array.pool.PoolStats;

/**
 * Issue 8's space figure: 20 clones of a 1 GiB LUN, each then changed by 10%, fit in 3 GiB of pool.
 * Every byte written is random and distinct, so dedup finds nothing: the saving is all
 * copy-on-write sharing (the worst case for the pool).
 */
class CloneSpaceIT {
  private static final long GIB = 1L << 30;
  private static final int CHUNK = 64 * 1024;

  @TempDir Path dir;

  @Test
  void twentyClonesChangedByTenPercentFitInThreeGib() throws Exception {
    try (BlockPool pool = BlockPool.open(dir.resolve("pool"), 8 * GIB)) {
      SplittableRandom random = new SplittableRandom(8);
      byte[] buf = new byte[CHUNK * 16];
      LunInfo base = pool.luns().create("base", GIB, Map.of());
      for (long off = 0; off < GIB; off += buf.length) {
        fill(random, buf);
        pool.write(base.lun(), off, buf, 0, buf.length);
      }
      pool.flush();
      int chunks = (int) (GIB / CHUNK);
      int changed = chunks / 10;
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < chunks; i++) {
        order.add(i);
      }
      byte[] chunk = new byte[CHUNK];
      List<LunInfo> clones = new ArrayList<>();
      for (int c = 0; c < 20; c++) {
        LunInfo clone = pool.luns().clone(base.id(), "clone-" + c, Map.of());
        clones.add(clone);
        Collections.shuffle(order, new java.util.Random(c));
        for (int i = 0; i < changed; i++) {
          fill(random, chunk);
          pool.write(clone.lun(), (long) order.get(i) * CHUNK, chunk, 0, CHUNK);
        }
      }
      pool.flush();
      PoolStats s = pool.stats();
      System.out.printf(
          "20 clones of a 1 GiB LUN, each changed by %d x 64 KiB (%.3f%%): physical %d bytes (%.4f GiB), logical %.2f GiB, data file %d bytes%n",
          changed,
          100.0 * changed / chunks,
          s.physicalUsedBytes(),
          (double) s.physicalUsedBytes() / GIB,
          (double) s.logicalBytes() / GIB,
          pool.dataFileBytes());
      assertThat(changed * (long) CHUNK).isGreaterThanOrEqualTo(GIB / 10 - CHUNK);
      assertThat(s.physicalUsedBytes()).isEqualTo(GIB + 20L * changed * CHUNK);
      assertThat(s.physicalUsedBytes()).isLessThanOrEqualTo(3 * GIB);
      assertThat(s.logicalBytes()).isEqualTo(21 * GIB);
      assertThat(s.lunCount()).isEqualTo(21);
      for (LunInfo clone : clones) {
        assertThat(pool.luns().info(clone.id()).allocatedBytes()).isEqualTo(GIB);
      }
    }
  }

  private static void fill(SplittableRandom r, byte[] b) {
    for (int i = 0; i < b.length; i += 8) {
      long v = r.nextLong();
      for (int k = 0; k < 8; k++) {
        b[i + k] = (byte) (v >>> (8 * k));
      }
    }
  }
}
