package org.xsm.plugins.qcow2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xsm.plugins.vhd.InteropSupport.MiB;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.InteropSupport;

/**
 * Clusters freed by zeroing (with and without a backing file) are reused by later writes, in the
 * same session after a flush and in a later session; the file does not grow, {@code qemu-img check}
 * is clean and {@code qemu-img compare} finds the model.
 */
@Timeout(180)
class Qcow2ReuseIT {
  private static final int SIZE = (int) (8 * MiB);

  @TempDir Path dir;
  private final Random rnd = new Random(21);
  private final byte[] model = new byte[SIZE];

  @BeforeAll
  static void tools() {
    InteropSupport.requireTool("qemu-img", "qemu-utils");
  }

  private void write(Qcow2Chain c, long off, int len) throws IOException {
    byte[] d = new byte[len];
    rnd.nextBytes(d);
    c.write(ByteBuffer.wrap(d), off);
    System.arraycopy(d, 0, model, (int) off, len);
  }

  /**
   * 4 MiB written, then 2 MiB of it zeroed (its clusters freed by the flush), then written again at
   * odd offsets (copy on write of partial clusters into reused ones): the clusters needed are the
   * ones freed, the L2 tables are there already.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void zeroedClustersAreReused(boolean reopen) throws Exception {
    for (int bits : new int[] {16, 9}) {
      for (boolean backing : new boolean[] {false, true}) {
        String what = "clusters 2^" + bits + (backing ? ", over a backing file" : "");
        Arrays.fill(model, (byte) 0);
        LocalImageStore store = LocalImageStore.open(dir);
        String name = "d" + bits + backing + ".qcow2";
        String base = "b" + bits + backing + ".qcow2";
        Qcow2.create(store, base, SIZE, Optional.empty(), XsmExtension.NIL, bits);
        if (backing) {
          Qcow2.snapshot(store, name, base, bits);
        } else {
          Qcow2.create(store, name, SIZE, Optional.empty(), XsmExtension.NIL, bits);
        }
        Qcow2Chain c = Qcow2Chain.open(store, name, true);
        write(c, 0, (int) (4 * MiB));
        c.flush();
        long written = store.sizeOf(name);
        c.zero(MiB, 2 * MiB);
        Arrays.fill(model, (int) MiB, (int) (3 * MiB), (byte) 0);
        c.flush();
        if (reopen) {
          c.close();
          c = Qcow2Chain.open(store, name, true);
        }
        write(c, MiB + 1000, (int) (2 * MiB - 3000));
        c.close();
        assertThat(store.sizeOf(name))
            .as("file size after the writes, %s", what)
            .isEqualTo(written);
        QemuOracle.assertCheckClean(dir, name);
        QemuOracle.assertSameAs(dir, name, model);
      }
    }
  }
}
