package org.xsm.bench;

import static org.xsm.bench.GcStormBench.MIB;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiMetadata;

/**
 * One disk of the gc-storm workload: prefilled with deterministic data, then written with 4 KiB
 * writes in its hot region (kept in a model), snapshotted every 10 s with the previous snapshot
 * destroyed (Xen Orchestra's rolling snapshot).
 */
final class StormDisk {
  final int index;
  final String location;
  private final VdiDevice device;
  private final GcStormBench.Options o;
  private final byte[] hot;
  private final Set<Integer> touchedSinceSnapshot = new HashSet<>();
  String snapshot;

  private StormDisk(int index, String location, VdiDevice device, GcStormBench.Options o) {
    this.index = index;
    this.location = location;
    this.device = device;
    this.o = o;
    this.hot = new byte[o.hotMib() * MIB];
  }

  static StormDisk create(Sr sr, int index, GcStormBench.Options o) throws SmException {
    String loc =
        sr.createVdi((long) o.vdiMib() * MIB, VdiMetadata.named("storm-" + index)).location();
    sr.attachVdi(loc, true);
    StormDisk d = new StormDisk(index, loc, sr.activateVdi(loc), o);
    for (int m = 0; m < o.vdiMib(); m++) {
      byte[] b = GcStormBench.prefill(index, m);
      d.device.write(ByteBuffer.wrap(b), (long) m * MIB);
      if (m < o.hotMib()) {
        System.arraycopy(b, 0, d.hot, m * MIB, MIB);
      }
    }
    d.device.flush();
    return d;
  }

  /** Live data: the disk, plus the blocks written since its latest snapshot (kept apart). */
  synchronized long liveBytes() {
    return (long) o.vdiMib() * MIB + (long) touchedSinceSnapshot.size() * GcStormBench.BLOCK;
  }

  void writeUntil(AtomicBoolean stop, GcStormBench.Storm s, Sr sr, GcStormBench.Options o)
      throws Exception {
    Random r = new Random(1000 + index);
    long interval = 1_000_000_000L / o.writesPerSecond();
    long next = System.nanoTime();
    long nextFlush = next + 1_000_000_000L;
    byte[] b = new byte[4096];
    while (!stop.get()) {
      long off = 4096L * r.nextInt(o.hotMib() * MIB / 4096);
      r.nextBytes(b);
      boolean during = sr.gcStepProgress() >= 0;
      long t0 = System.nanoTime();
      device.write(ByteBuffer.wrap(b), off);
      long t1 = System.nanoTime();
      during |= sr.gcStepProgress() >= 0;
      synchronized (this) {
        System.arraycopy(b, 0, hot, (int) off, b.length);
        touchedSinceSnapshot.add((int) (off / GcStormBench.BLOCK));
      }
      s.all.add(t1 - t0);
      if (during) {
        s.duringCoalesce.add(t1 - t0);
      }
      if (t1 >= nextFlush) {
        device.flush(); // a guest's periodic flush; not timed
        nextFlush = t1 + 1_000_000_000L;
      }
      next += interval;
      long wait = next - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      } else {
        next = System.nanoTime(); // behind: do not burst to catch up
      }
    }
  }

  void rollUntil(AtomicBoolean stop, GcStormBench.Storm s, Sr sr, GcStormBench.Options o)
      throws Exception {
    long period = 10_000_000_000L;
    long next = System.nanoTime() + period * index / Math.max(1, o.vdis());
    while (!stop.get()) {
      if (System.nanoTime() < next) {
        Thread.sleep(50);
        continue;
      }
      next += period;
      String taken;
      try {
        taken = sr.snapshot(location, SnapshotKind.DOUBLE, null).location();
        s.snapshots.incrementAndGet();
        synchronized (this) {
          touchedSinceSnapshot.clear();
        }
      } catch (SmException e) {
        (GcStormBench.chainTooLong(e) ? s.chainTooLong : s.otherFailures).incrementAndGet();
        continue;
      }
      if (snapshot != null) {
        try {
          sr.deleteVdi(snapshot);
        } catch (SmException e) {
          s.otherFailures.incrementAndGet();
          System.err.println("delete of snapshot " + snapshot + " failed: " + e);
        }
      }
      snapshot = taken;
    }
  }

  /** After the writers stopped: the disk and a snapshot of it hold exactly the model. */
  boolean verify(Sr sr) throws SmException {
    device.flush();
    boolean ok = matches(device);
    String check = sr.snapshot(location, SnapshotKind.DOUBLE, null).location();
    sr.attachVdi(check, false);
    try {
      ok &= matches(sr.activateVdi(check));
    } finally {
      sr.detachVdi(check);
    }
    return ok;
  }

  private boolean matches(VdiDevice d) throws SmException {
    byte[] got = new byte[MIB];
    for (int m = 0; m < o.vdiMib(); m++) {
      d.read(ByteBuffer.wrap(got), (long) m * MIB);
      byte[] want =
          m < o.hotMib()
              ? Arrays.copyOfRange(hot, m * MIB, (m + 1) * MIB)
              : GcStormBench.prefill(index, m);
      if (!Arrays.equals(got, want)) {
        System.out.printf("disk %d (%s): MiB %d differs from its model%n", index, location, m);
        return false;
      }
    }
    return true;
  }

  void close(Sr sr) throws SmException {
    sr.detachVdi(location);
  }
}
