package org.xsm.plugins.filesr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.GcBacklog;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.store.LocalImageStore;

/** The collector's parts: write tracking, settings, pacing, and the backlog of a real tree. */
class GcPiecesTest {
  private static final int MIB = 1024 * 1024;
  private static final int BLOCK = 2 * MIB;

  @TempDir Path dir;

  @Test
  void trackerRecordsExactSectorsAcrossBlocksAndDrainsThem() {
    LeafWriteTracker t = new LeafWriteTracker(BLOCK);
    t.mark(BLOCK - 512, 1024); // last sector of block 0, first of block 1
    t.mark(100, 10); // a partial sector counts as the whole sector
    t.mark(0, 512); // the same sector again
    assertThat(t.pendingBytes()).isEqualTo(3 * 512);
    Map<Integer, BitSet> d = t.drain();
    assertThat(d).containsOnlyKeys(0, 1);
    assertThat(d.get(0).stream().toArray()).containsExactly(0, BLOCK / 512 - 1);
    assertThat(d.get(1).stream().toArray()).containsExactly(0);
    assertThat(LeafWriteTracker.bytesOf(d)).isEqualTo(3 * 512);
    assertThat(t.pendingBytes()).isZero();
    assertThat(t.drain()).isEmpty();
    assertThat(t.disturbed()).isFalse();
    t.disturb();
    assertThat(t.disturbed()).isTrue();
  }

  @Test
  void settingsDefaultsOverridesAndBadValues() throws Exception {
    GcSettings d = GcSettings.of(Map.of(), Map.of());
    assertThat(d).isEqualTo(GcSettings.DEFAULTS);
    assertThat(d.delayMillis()).isEqualTo(1000);
    assertThat(d.rateBytesPerSecond()).isEqualTo(64L * MIB);
    GcSettings s =
        GcSettings.of(
            Map.of("gc-rate-mib", "8"),
            Map.of("gc", "false", "gc-quiet-period-ms", "5", "gc-rate-mib", "16"));
    assertThat(s.enabled()).isFalse();
    assertThat(s.delayMillis()).isEqualTo(5);
    assertThat(s.rateBytesPerSecond()).as("other_config wins").isEqualTo(16L * MIB);
    assertThat(GcSettings.of(Map.of("gc-rate-mib", "8"), Map.of()).rateBytesPerSecond())
        .isEqualTo(8L * MIB);
    assertThatThrownBy(() -> GcSettings.of(Map.of(), Map.of("gc-rate-mib", "-1")))
        .isInstanceOfSatisfying(
            SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.BAD_REQUEST))
        .hasMessageContaining("gc-rate-mib");
    assertThatThrownBy(() -> GcSettings.of(Map.of(), Map.of("gc-quiet-period-ms", "soon")))
        .isInstanceOf(SmException.class)
        .hasMessageContaining("gc-quiet-period-ms");
  }

  /** A clock whose waits advance its time at once: the throttle's arithmetic, without sleeping. */
  private static final class StepClock implements GcThrottle.Clock {
    long now = 1_000_000_000L;
    long slept;

    @Override
    public long nanoTime() {
      return now;
    }

    @Override
    public void sleepNanos(long nanos) {
      now += nanos;
      slept += nanos;
    }
  }

  @Test
  void throttleHoldsTheRateGivesWayToForegroundIoAndAborts() throws Exception {
    GcThrottle unlimited = new GcThrottle(0);
    unlimited.paid(1L << 40, () -> true); // unlimited: never waits, so never sees the abort
    assertThat(unlimited.effectiveRate()).isEqualTo(Long.MAX_VALUE);

    StepClock clock = new StepClock();
    GcThrottle t = new GcThrottle(8L * MIB, clock);
    for (int i = 0; i < 4; i++) {
      t.paid(MIB, () -> false); // 4 MiB at 8 MiB/s: half a second
    }
    assertThat(clock.slept / 1e9).isBetween(0.45, 0.5);

    assertThat(t.effectiveRate()).isEqualTo(8L * MIB);
    t.foreground(1L << 40); // a flood of foreground I/O, seen when the next window starts
    clock.now += 600_000_000L;
    t.paid(1, () -> false);
    assertThat(t.effectiveRate()).as("a quarter of the rate at least").isEqualTo(2L * MIB);

    assertThatThrownBy(() -> t.paid(64L * MIB, () -> true))
        .isInstanceOf(InterruptedIOException.class);
  }

  @Test
  void backlogOfARealTreeEmptiesWhenCollected() throws Exception {
    FileSr sr =
        new FileSr(
            LocalImageStore.open(dir), TestDriverInfo.INFO, UUID.randomUUID().toString(), () -> {});
    String leaf = sr.createVdi(16 * MIB, VdiMetadata.named("a")).location();
    write(sr, leaf, 0);
    String s1 = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    write(sr, leaf, 4 * MIB);
    String s2 = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    write(sr, leaf, 8 * MIB);
    assertThat(sr.gcBacklog()).isEqualTo(GcBacklog.NONE);
    sr.stats();
    assertThat(sr.gcBacklog().longestChain()).isEqualTo(3);
    assertThat(sr.gcBacklog().isEmpty()).as("nothing to collect: both snapshots kept").isTrue();

    sr.deleteVdi(s1);
    sr.deleteVdi(s2);
    sr.stats();
    GcBacklog b = sr.gcBacklog();
    assertThat(b.garbageFiles()).as("the two deleted snapshots' files").isZero();
    assertThat(b.chains()).as("base 2 into base 1, the leaf into base 2").isEqualTo(2);
    assertThat(b.backlogBytes()).isPositive();
    assertThat(b.reclaimableBytes()).isGreaterThanOrEqualTo(b.backlogBytes());
    assertThat(b.etaSeconds()).as("collector not started: disabled").isEqualTo(-1);

    sr.collectGarbage();
    assertThat(sr.gcBacklog().isEmpty()).isTrue();
    assertThat(sr.gcBacklog().longestChain()).isEqualTo(1);
    assertThat(sr.gcCounters().coalesced()).isEqualTo(1);
    assertThat(sr.gcCounters().leafCoalesced()).isEqualTo(1);
    assertThat(sr.gcCounters().runs()).isEqualTo(1);
  }

  private static void write(FileSr sr, String loc, long offset) throws Exception {
    sr.attachVdi(loc, true);
    VdiDevice d = sr.activateVdi(loc);
    byte[] b = new byte[MIB];
    java.util.Arrays.fill(b, (byte) (offset / MIB + 1));
    d.write(ByteBuffer.wrap(b), offset);
    d.flush();
    sr.detachVdi(loc);
  }
}
