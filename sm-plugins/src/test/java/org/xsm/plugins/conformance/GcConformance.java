package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.xsm.api.Capability;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.plugins.filesr.CrashPoints;

/**
 * The background garbage collector of backends whose snapshots leave base copies, through the SPI
 * at default settings: it reclaims space while the SR is scanned every two seconds and its disks
 * are written (it is scheduled by work, not by silence), merges the leaf of an active VDI without
 * losing a write, and recovers from a failure at each of its durable steps. Every wait polls with a
 * deadline; none relies on a sleep to win a race.
 */
public abstract class GcConformance extends BatchSnapshotConformance {
  /** The space of destroyed snapshots must be back within this, at default settings. */
  static final long RECLAIM_DEADLINE_MS = 60_000;

  private interface Condition {
    boolean holds() throws Exception;
  }

  /** Polls {@code condition} (scanning the SR every two seconds meanwhile) until the deadline. */
  private static boolean within(Sr sr, long millis, Condition condition) throws Exception {
    long deadline = System.nanoTime() + millis * 1_000_000;
    long nextScan = 0;
    while (System.nanoTime() < deadline) {
      if (System.nanoTime() >= nextScan) {
        sr.scan(); // as monitoring tools do; under the old quiet period this kept GC away
        nextScan = System.nanoTime() + 2_000_000_000L;
      }
      if (condition.holds()) {
        return true;
      }
      Thread.sleep(100);
    }
    return condition.holds();
  }

  /** Files from {@code location} to its root, following {@code sm_config:vhd-parent} in a scan. */
  private static int depth(Sr sr, String location) throws SmException {
    java.util.Map<String, String> parent = new java.util.HashMap<>();
    for (VdiInfo v : sr.scan()) {
      parent.put(v.location(), v.smConfig().get("vhd-parent"));
    }
    int d = 0;
    for (String l = location; l != null && d < 64; l = parent.get(l)) {
      d++;
    }
    return d;
  }

  /** Writes 1 MiB of random data at {@code offset} through a short attach, then detaches. */
  private void writeMib(Sr sr, VdiInfo vdi, ShadowDisk disk, Random random, long offset)
      throws Exception {
    VdiDevice d = open(sr, vdi.location(), true);
    disk.writeRandom(d, random, offset, MIB);
    d.flush();
    close(sr, vdi.location());
  }

  /** The steps of the collector where a crash or failure is tested (its crash points). */
  public static List<String> gcSteps() {
    return List.of(
        "gc.coalesce-logged",
        "gc.coalesce-copied",
        "gc.relink-logged",
        "gc.relinked-child",
        "gc.node-deleted",
        "gc.leaf-round-copied",
        "gc.leaf-logged",
        "gc.leaf-copied",
        "gc.leaf-moved",
        "gc.parent-renamed",
        "gc.leaf-unhidden");
  }

  private static VdiInfo only(Sr sr) throws SmException {
    List<VdiInfo> scan = sr.scan();
    return scan.size() == 1 ? scan.get(0) : null;
  }

  /** Six snapshots of a 64 MiB disk, each followed by 1 MiB of new data, all six destroyed. */
  @Test
  void destroyedSnapshotsAreReclaimedWithinAMinuteUnderScans() throws Exception {
    assumeTrue(snapshotsLeaveBaseCopies(), "no base copies, nothing to collect");
    assumeCapabilities(Capability.VDI_SNAPSHOT, Capability.VDI_DELETE);
    Sr sr = newSr();
    VdiInfo vdi = createVdi(sr, 64 * MIB, "gc-reclaim");
    ShadowDisk disk = createWithData(sr, vdi, 11);
    Random random = new Random(12);
    VdiDevice full = open(sr, vdi.location(), true);
    for (long off = 0; off < 64L * MIB; off += MIB) {
      disk.writeRandom(full, random, off, MIB); // every block allocated: later writes add none
    }
    full.flush();
    close(sr, vdi.location());
    long before = sr.stats().physicalUtilisationBytes();
    List<VdiInfo> snaps = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      snaps.add(snapshot(sr, vdi, SnapshotKind.DOUBLE, "snap-" + i));
      writeMib(sr, vdi, disk, random, (long) i * 4 * MIB);
    }
    for (VdiInfo s : snaps) {
      sr.deleteVdi(s.location());
    }

    boolean reclaimed =
        within(
            sr,
            RECLAIM_DEADLINE_MS,
            () -> {
              VdiInfo v = only(sr);
              // runs() counts finished passes: the tree may be collapsed before its pass ends.
              return v != null
                  && !v.smConfig().containsKey("vhd-parent")
                  && sr.stats().physicalUtilisationBytes() <= before + 2L * MIB
                  && sr.gcBacklog().isEmpty()
                  && sr.gcCounters().runs() > 0;
            });

    assertThat(reclaimed)
        .as(
            "within %d s: one file left, physical utilisation %d <= %d + 2 MiB, backlog %s,"
                + " a pass finished (%s)",
            RECLAIM_DEADLINE_MS / 1000,
            sr.stats().physicalUtilisationBytes(),
            before,
            sr.gcBacklog(),
            sr.gcCounters())
        .isTrue();
    assertContent(sr, vdi.location(), disk, "after the collector merged its chain");
  }

  /** A leaf of an active VDI, written all along, is merged into its parent; no write is lost. */
  @Test
  void leafOfAnActiveVdiIsMergedWhileItIsWritten() throws Exception {
    mergeActiveLeafUnderWrites(null);
  }

  /**
   * A failure inside the final switch of an active leaf (its I/O paused): the journal's recovery
   * runs before the device resumes, so the device goes on with a complete leaf and no write is
   * lost; a later pass merges the leaf.
   */
  @ParameterizedTest(name = "failure at {0} while written")
  @ValueSource(
      strings = {"gc.leaf-copied", "gc.leaf-moved", "gc.parent-renamed", "gc.leaf-unhidden"})
  void aFailureInTheSwitchOfAnActiveLeafLosesNoWrite(String point) throws Exception {
    mergeActiveLeafUnderWrites(point);
  }

  /** Merges the leaf of an active, written VDI; with {@code failAt}, fails once at that step. */
  private void mergeActiveLeafUnderWrites(String failAt) throws Exception {
    assumeTrue(snapshotsLeaveBaseCopies(), "no base copies, nothing to collect");
    assumeCapabilities(Capability.VDI_SNAPSHOT, Capability.VDI_DELETE);
    Sr sr = newSr();
    VdiInfo vdi = createVdi(sr, 32 * MIB, "gc-live-leaf");
    ShadowDisk disk = createWithData(sr, vdi, 21);
    VdiInfo snap = snapshot(sr, vdi, SnapshotKind.DOUBLE, "to-delete");
    VdiDevice d = open(sr, vdi.location(), true);
    Random random = new Random(22);
    for (int i = 0; i < 8; i++) {
      disk.writeRandom(d, random, (long) i * 4 * MIB, MIB); // a leaf with data of its own
    }
    AtomicInteger fired = new AtomicInteger();
    if (failAt != null) {
      CrashPoints.install(
          p -> {
            if (p.equals(failAt) && fired.getAndIncrement() == 0) {
              throw new IllegalStateException("injected failure at " + p);
            }
          });
    }
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger writes = new AtomicInteger();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread writer =
        new Thread(
            () -> {
              Random r = new Random(23);
              try {
                while (!stop.get()) {
                  long off = 4096L * r.nextInt(32 * MIB / 4096);
                  disk.writeRandom(d, r, off, 4096);
                  writes.incrementAndGet();
                  // A modest rate (at most 2 MiB/s, an eighth of the collector's paced rate under
                  // I/O), so catch-up rounds shrink; the collector must not need an idle disk.
                  Thread.sleep(2);
                }
              } catch (Throwable t) {
                failed.set(t);
              }
            },
            "gc-conformance-writer");
    writer.start();
    boolean merged;
    try {
      assertThat(within(sr, RECLAIM_DEADLINE_MS, () -> writes.get() >= 20 || failed.get() != null))
          .as("the writer is under way")
          .isTrue();
      sr.deleteVdi(snap.location()); // from here the collector works while the writer writes
      merged =
          within(
              sr,
              RECLAIM_DEADLINE_MS,
              () -> {
                VdiInfo v = only(sr);
                return (failAt == null || fired.get() > 0)
                    && v != null
                    && !v.smConfig().containsKey("vhd-parent");
              });
    } finally {
      stop.set(true);
      writer.join();
      CrashPoints.install(p -> {});
    }
    assertThat(failed.get()).as("writer").isNull();
    if (failAt != null) {
      assertThat(fired.get()).as("the collector reached %s", failAt).isPositive();
    }
    assertThat(merged).as("leaf merged within %d s", RECLAIM_DEADLINE_MS / 1000).isTrue();
    d.flush();
    disk.assertMatches(d, "through the device that stayed active across the merge");
    close(sr, vdi.location());
    assertContent(sr, vdi.location(), disk, "after the live leaf-coalesce");
  }

  /**
   * A failure at each durable step of the collector (thrown at its crash point, in the collector's
   * thread) leaves every VDI intact; the next pass recovers from the journal and finishes.
   */
  @ParameterizedTest(name = "failure at {0}")
  @MethodSource("gcSteps")
  void aFailureAtEachStepIsRecoveredByTheNextPass(String point) throws Exception {
    assumeTrue(snapshotsLeaveBaseCopies(), "no base copies, nothing to collect");
    assumeCapabilities(Capability.VDI_SNAPSHOT, Capability.VDI_DELETE);
    Sr sr = newSr();
    VdiInfo vdi = createVdi(sr, 8 * MIB, "gc-fault");
    ShadowDisk disk = createWithData(sr, vdi, 31);
    Random random = new Random(32);
    VdiInfo kept = snapshot(sr, vdi, SnapshotKind.DOUBLE, "kept");
    ShadowDisk keptDisk = disk.copy();
    VdiInfo[] gone = new VdiInfo[2];
    for (int i = 0; i < 2; i++) {
      writeMib(sr, vdi, disk, random, (long) i * 2 * MIB);
      gone[i] = snapshot(sr, vdi, SnapshotKind.DOUBLE, "gone-" + i);
    }
    writeMib(sr, vdi, disk, random, 6L * MIB);
    AtomicInteger fired = new AtomicInteger();
    CrashPoints.install(
        p -> {
          if (p.equals(point) && fired.getAndIncrement() == 0) {
            throw new IllegalStateException("injected failure at " + p);
          }
        });
    try {
      for (VdiInfo g : gone) {
        sr.deleteVdi(g.location());
      }
      boolean done =
          within(
              sr,
              RECLAIM_DEADLINE_MS,
              () -> fired.get() > 0 && sr.gcBacklog().isEmpty() && depth(sr, vdi.location()) == 2);
      assertThat(fired.get()).as("the collector reached %s", point).isPositive();
      assertThat(done)
          .as(
              "collected after the failure: chain depth %d (2: leaf and the kept snapshot's base),"
                  + " backlog %s",
              depth(sr, vdi.location()), sr.gcBacklog())
          .isTrue();
    } finally {
      CrashPoints.install(p -> {});
    }
    assertContent(sr, vdi.location(), disk, "leaf after a failure at " + point);
    assertContent(sr, kept.location(), keptDisk, "kept snapshot after a failure at " + point);
    Sr again = reattach(sr);
    assertContent(again, vdi.location(), disk, "leaf after re-attach");
  }
}
