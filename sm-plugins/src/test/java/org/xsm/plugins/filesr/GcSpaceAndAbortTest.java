package org.xsm.plugins.filesr;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.DriverInfo;
import org.xsm.api.SnapshotKind;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.conformance.VdiBytes;
import org.xsm.plugins.store.ForwardingImageStore;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.Vhd;

/** The GC's space check and its abort on SR detach. */
class GcSpaceAndAbortTest {
  private static final int MIB = 1024 * 1024;
  private static final DriverInfo INFO = TestDriverInfo.INFO;

  @TempDir Path dir;

  /** A local store that reports a fixed amount of free space. */
  private static final class FullStore extends ForwardingImageStore {
    volatile long free;

    FullStore(ImageStore d, long free) {
      super(d);
      this.free = free;
    }

    @Override
    public long freeBytes() {
      return free;
    }
  }

  private static void fill(FileSr sr, String loc, int size, long seed) throws Exception {
    sr.attachVdi(loc, true);
    VdiDevice d = sr.activateVdi(loc);
    byte[] b = new byte[MIB];
    Random r = new Random(seed);
    for (long off = 0; off < size; off += MIB) {
      r.nextBytes(b);
      d.write(ByteBuffer.wrap(b), off);
    }
    d.flush();
    sr.detachVdi(loc);
  }

  @Test
  void noSpaceIsRecordedAndSkippedNotRetried() throws Exception {
    FullStore store = new FullStore(LocalImageStore.open(dir), 0);
    FileSr sr = new FileSr(store, INFO, UUID.randomUUID().toString(), () -> {});
    String leaf = sr.createVdi(8 * MIB, VdiMetadata.named("a")).location();
    fill(sr, leaf, 8 * MIB, 1);
    String s1 = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    fill(sr, leaf, 8 * MIB, 2);
    sr.snapshot(leaf, SnapshotKind.DOUBLE, null);
    sr.deleteVdi(s1);

    GarbageCollector.GcReport r = sr.collectGarbage();

    assertThat(r.noSpace()).isNotEmpty();
    assertThat(sr.gcNoSpace()).containsAll(r.noSpace());
    assertThat(r.coalesced() + r.leafCoalesced()).isZero();
    int depth = Vhd.query(store, leaf + ".vhd").chainDepth();
    // With space, the same tree is coalesced.
    store.free = Long.MAX_VALUE;
    GarbageCollector.GcReport r2 = sr.collectGarbage();
    assertThat(r2.noSpace()).isEmpty();
    assertThat(Vhd.query(store, leaf + ".vhd").chainDepth()).isLessThan(depth);
  }

  @Test
  void detachAbortsARunningCollectionAndLeavesTheTreeConsistent() throws Exception {
    LocalImageStore store = LocalImageStore.open(dir);
    FileSr sr = new FileSr(store, INFO, UUID.randomUUID().toString(), () -> {});
    sr.startGc(Map.of("gc-quiet-period-ms", "0"));
    int size = 256 * MIB;
    String leaf = sr.createVdi(size, VdiMetadata.named("big")).location();
    fill(sr, leaf, size, 3);
    String snap = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    fill(sr, leaf, size, 4);
    byte[] expected = VdiBytes.readAll(sr, leaf);
    sr.deleteVdi(snap); // kicks the background collector at once
    long deadline = System.currentTimeMillis() + 20_000;
    while (!sr.gcStatus().startsWith("gc leaf-coalescing")
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(5);
    }
    assertThat(sr.gcStatus()).startsWith("gc leaf-coalescing");
    long t = System.nanoTime();
    sr.detach();
    assertThat((System.nanoTime() - t) / 1e9).as("seconds to detach").isLessThan(10);
    // Aborted: a complete run would have merged everything into one file (depth 1); the live
    // leaf copy in progress (paced at the default 64 MiB/s) was stopped before its switch.
    assertThat(Vhd.query(store, leaf + ".vhd").chainDepth()).isGreaterThan(1);

    FileSr again = new FileSr(store, INFO, sr.uuid(), () -> {});
    again.recover();
    assertThat(Vhd.check(store, leaf + ".vhd", true)).isEmpty();
    assertThat(VdiBytes.readAll(again, leaf)).isEqualTo(expected);
    again.collectGarbage();
    assertThat(Vhd.query(store, leaf + ".vhd").chainDepth()).isEqualTo(1);
    assertThat(VdiBytes.readAll(again, leaf)).isEqualTo(expected);
  }
}
