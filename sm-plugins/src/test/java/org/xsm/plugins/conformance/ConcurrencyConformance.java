package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.xsm.api.Capability;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;

/**
 * Concurrency: snapshots of a VDI that is being written, snapshots of several VDIs at once while
 * others scan, and several threads writing one device.
 */
public abstract class ConcurrencyConformance extends SnapshotConformance {

  @Test
  void snapshotOfAnActiveVdiUnderWritesIsPointInTime() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT, Capability.ATOMIC_PAUSE);
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 8L * MIB, "busy");
    VdiDevice d = open(sr, a.location(), true);
    SequenceWriter writer = new SequenceWriter(d, a.virtualSizeBytes());
    record Taken(VdiInfo vdi, long returnedBefore, long begunAfter) {}
    List<Taken> taken = new ArrayList<>();
    Thread thread = new Thread(writer, "conformance-writer");
    thread.start();
    try {
      for (int i = 0; i < 6; i++) {
        writer.awaitProgress(50 + 37L * i, "before snapshot " + i);
        long before = writer.completed();
        VdiInfo s =
            i == 3 && has(Capability.VDI_CLONE)
                ? sr.cloneVdi(a.location(), VdiMetadata.named("clone under writes"))
                : snapshot(sr, a, SnapshotKind.DOUBLE, "under writes " + i);
        taken.add(new Taken(s, before, writer.started()));
      }
      writer.awaitProgress(200, "after the snapshots (the device must keep working)");
    } finally {
      writer.stop();
      thread.join(30_000);
    }
    assertThat(thread.isAlive()).as("writer thread stopped").isFalse();
    writer.checkAlive("during the snapshots");
    long total = writer.completed();
    d.flush();
    writer.assertImage(ShadowDisk.readAll(d), total, total, "leaf after all writes (none lost)");
    close(sr, a.location());
    for (int i = 0; i < taken.size(); i++) {
      Taken t = taken.get(i);
      VdiDevice sd = open(sr, t.vdi().location(), false);
      writer.assertImage(
          ShadowDisk.readAll(sd),
          t.returnedBefore(),
          t.begunAfter(),
          (t.vdi().readOnly() ? "snapshot " : "clone ") + i + " taken under writes");
      close(sr, t.vdi().location());
    }
    VdiDevice again = open(sr, a.location(), false);
    writer.assertImage(ShadowDisk.readAll(again), total, total, "leaf re-attached");
  }

  @Test
  void parallelSnapshotsOfDifferentVdis() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT);
    int threads = 4;
    int rounds = 4;
    Sr sr = newSr();
    List<VdiInfo> vdis = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      vdis.add(createVdi(sr, 4L * MIB, "parallel " + t));
    }
    record Result(VdiInfo source, ShadowDisk leaf, List<VdiInfo> snaps, List<ShadowDisk> data) {}
    CyclicBarrier barrier = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads + 2);
    List<Future<Result>> futures = new ArrayList<>();
    AtomicBoolean done = new AtomicBoolean();
    try {
      // Meanwhile, every scan must list every source VDI as a writable managed VDI: a snapshot
      // in progress must not show as a missing or half-made leaf.
      Future<Integer> scanner =
          pool.submit(
              () -> {
                int scans = 0;
                while (!done.get()) {
                  List<VdiInfo> scan = sr.scan();
                  for (VdiInfo v : vdis) {
                    VdiInfo seen =
                        find(scan, v.location())
                            .orElseThrow(
                                () ->
                                    new AssertionError(
                                        "a scan during parallel snapshots"
                                            + " does not list source VDI "
                                            + v.location()));
                    assertThat(List.of(seen.managed(), seen.readOnly(), seen.virtualSizeBytes()))
                        .as(
                            "managed, readOnly, size of %s in a scan during snapshots",
                            v.location())
                        .containsExactly(true, false, v.virtualSizeBytes());
                  }
                  scans++;
                }
                return scans;
              });
      // And another thread creates, writes, checks and deletes VDIs of its own.
      Future<Integer> churn =
          pool.submit(
              () -> {
                int cycles = 0;
                Random random = new Random(49);
                while (!done.get() || cycles == 0) {
                  VdiInfo v = createVdi(sr, 2L * MIB, "churn " + cycles);
                  ShadowDisk disk = new ShadowDisk(v.virtualSizeBytes());
                  VdiDevice d = open(sr, v.location(), true);
                  disk.writeRound(d, random, cycles);
                  close(sr, v.location());
                  assertContent(sr, v.location(), disk, "VDI made during parallel snapshots");
                  if (has(Capability.VDI_DELETE)) {
                    sr.deleteVdi(v.location());
                  }
                  cycles++;
                }
                return cycles;
              });
      for (int t = 0; t < threads; t++) {
        VdiInfo v = vdis.get(t);
        long seed = 50 + t;
        futures.add(
            pool.submit(
                () -> {
                  try {
                    Random random = new Random(seed);
                    ShadowDisk leaf = new ShadowDisk(v.virtualSizeBytes());
                    List<VdiInfo> snaps = new ArrayList<>();
                    List<ShadowDisk> data = new ArrayList<>();
                    VdiDevice d = open(sr, v.location(), true);
                    for (int r = 0; r < rounds; r++) {
                      leaf.writeRound(d, random, r);
                      barrier.await(30, TimeUnit.SECONDS);
                      snaps.add(snapshot(sr, v, SnapshotKind.DOUBLE, v.uuid() + " round " + r));
                      data.add(leaf.copy());
                    }
                    leaf.writeRound(d, random, rounds);
                    d.flush();
                    close(sr, v.location());
                    return new Result(v, leaf, snaps, data);
                  } catch (Exception | AssertionError e) {
                    barrier.reset(); // the others stop waiting for this thread
                    throw e;
                  }
                }));
      }
      List<Result> results = new ArrayList<>();
      Throwable first = null;
      for (Future<Result> f : futures) {
        try {
          results.add(f.get(60, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
          // Prefer the thread that failed over those it left waiting at the barrier.
          if (first == null || first instanceof BrokenBarrierException) {
            first = e.getCause();
          }
        }
      }
      if (first != null) {
        throw new AssertionError("a snapshotting thread failed: " + first, first);
      }
      done.set(true);
      assertThat(scanner.get(30, TimeUnit.SECONDS))
          .as("scans made during the snapshots")
          .isPositive();
      int cycles = churn.get(30, TimeUnit.SECONDS);
      Set<String> all = new HashSet<>();
      for (Result r : results) {
        assertContent(sr, r.source().location(), r.leaf(), "leaf " + r.source().location());
        for (int i = 0; i < rounds; i++) {
          VdiInfo s = r.snaps().get(i);
          assertThat(all.add(s.location())).as("snapshot locations are unique").isTrue();
          assertContent(
              sr,
              s.location(),
              r.data().get(i),
              "snapshot " + i + " of " + r.source().location() + " taken in parallel");
        }
      }
      assertThat(sr.scan().stream().filter(VdiInfo::managed).count())
          .as("managed VDIs after parallel snapshots")
          .isEqualTo(threads * (rounds + 1L) + (has(Capability.VDI_DELETE) ? 0 : cycles));
    } finally {
      done.set(true);
      pool.shutdownNow();
      assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).as("pool terminated").isTrue();
    }
  }

  /**
   * Several threads write one device at once: interleaved 3-sector pieces (so threads share every 2
   * MiB block, including blocks not yet allocated), then the same ranges in full by two threads at
   * once, where one of the two writes must win whole.
   */
  @Test
  void concurrentWritesToOneDevice() throws Exception {
    assumeVdiIo();
    int threads = 4;
    int piece = 1536;
    Sr sr = newSr();
    VdiInfo a = createVdi(sr, 6L * MIB, "shared device");
    VdiDevice d = open(sr, a.location(), true);
    long size = a.virtualSizeBytes();
    int pieces = (int) (size / piece);
    byte[][] patterns = new byte[threads][piece];
    for (int t = 0; t < threads; t++) {
      Arrays.fill(patterns[t], (byte) (0x11 * (t + 1)));
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CyclicBarrier start = new CyclicBarrier(threads);
      List<Future<?>> writers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int me = t;
        writers.add(
            pool.submit(
                () -> {
                  start.await(30, TimeUnit.SECONDS);
                  for (int p = me; p < pieces; p += threads) {
                    d.write(ByteBuffer.wrap(patterns[me]), (long) p * piece);
                  }
                  return null;
                }));
      }
      for (Future<?> f : writers) {
        f.get(60, TimeUnit.SECONDS);
      }
      ShadowDisk expected = new ShadowDisk(size);
      for (int p = 0; p < pieces; p++) {
        expected.record((long) p * piece, patterns[p % threads]);
      }
      expected.assertMatches(d, "device after interleaved writes from " + threads + " threads");

      // Overlapping writes: two threads write the same 300 KiB range, crossing a block boundary.
      int length = 300 * 1024;
      long offset = 2L * MIB - 100 * 1024 - 7;
      for (int trial = 0; trial < 8; trial++) {
        byte[] first = new byte[length];
        byte[] second = new byte[length];
        Arrays.fill(first, (byte) (0x40 + trial));
        Arrays.fill(second, (byte) (0x80 + trial));
        CyclicBarrier both = new CyclicBarrier(2);
        Future<?> f1 = pool.submit(() -> overlapping(d, both, first, offset));
        Future<?> f2 = pool.submit(() -> overlapping(d, both, second, offset));
        f1.get(30, TimeUnit.SECONDS);
        f2.get(30, TimeUnit.SECONDS);
        byte[] got = ShadowDisk.read(d, offset, length);
        assertThat(Arrays.equals(got, first) || Arrays.equals(got, second))
            .as(
                "overlapping concurrent writes, trial %d: one must win whole (first bytes 0x%02x,"
                    + " last 0x%02x)",
                trial, got[0], got[length - 1])
            .isTrue();
        expected.record(offset, got);
      }
      d.flush();
      close(sr, a.location());
      assertContent(sr, a.location(), expected, "VDI after concurrent writes");
    } finally {
      pool.shutdownNow();
      assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).as("pool terminated").isTrue();
    }
  }

  private static Void overlapping(VdiDevice d, CyclicBarrier barrier, byte[] data, long offset)
      throws Exception {
    barrier.await(30, TimeUnit.SECONDS);
    d.write(ByteBuffer.wrap(data), offset);
    return null;
  }

  /**
   * After deletes, a storage manager may merge and remove nodes in the background (xapi's garbage
   * collector, which scans and deletes kick). For a while after deleting snapshots, with one VDI
   * active and being written, every scan must list the same managed VDIs and every VDI must read
   * the same.
   */
  @Test
  void dataSurvivesBackgroundWorkAfterDeletes() throws Exception {
    assumeVdiIo();
    assumeCapabilities(Capability.VDI_SNAPSHOT, Capability.VDI_DELETE, Capability.VDI_CLONE);
    Sr sr = newSr();
    Random random = new Random(96);
    VdiInfo a = createVdi(sr, 4L * MIB, "a");
    ShadowDisk leaf = new ShadowDisk(a.virtualSizeBytes());
    VdiDevice d = open(sr, a.location(), true);
    List<VdiInfo> snaps = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      leaf.writeRound(d, random, i);
      snaps.add(snapshot(sr, a, SnapshotKind.DOUBLE, "s" + i));
    }
    ShadowDisk kept = leaf.copy();
    VdiInfo c = sr.cloneVdi(a.location(), VdiMetadata.named("active clone"));
    ShadowDisk clone = leaf.copy();
    leaf.writeRound(d, random, 3);
    d.flush();
    close(sr, a.location());
    VdiDevice dc = open(sr, c.location(), true);
    sr.deleteVdi(snaps.get(0).location());
    sr.deleteVdi(snaps.get(1).location());
    Set<String> managed =
        new HashSet<>(List.of(a.location(), c.location(), snaps.get(2).location()));
    long deadline = System.nanoTime() + 1_500_000_000L;
    for (int round = 0; System.nanoTime() < deadline; round++) {
      assertThat(sr.scan().stream().filter(VdiInfo::managed).map(VdiInfo::location))
          .as("managed VDIs %d scans after the deletes", round)
          .containsExactlyInAnyOrderElementsOf(managed);
      clone.writeRandom(dc, random, random.nextInt((int) clone.sizeBytes() - 5000), 5000);
      clone.assertMatches(dc, "active clone, " + round + " scans after the deletes");
      if (round % 3 == 0) {
        assertContent(sr, a.location(), leaf, "leaf, " + round + " scans after the deletes");
        assertContent(
            sr, snaps.get(2).location(), kept, "snapshot, " + round + " scans after the deletes");
      }
      Thread.sleep(50);
    }
    dc.flush();
    close(sr, c.location());
    Sr again = reattach(sr);
    assertContent(again, c.location(), clone, "clone after the deletes and a re-attach");
    assertContent(again, a.location(), leaf, "leaf after the deletes and a re-attach");
    assertContent(again, snaps.get(2).location(), kept, "snapshot after the deletes");
  }
}
