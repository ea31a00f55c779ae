package org.xsm.plugins.filesr;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.DoubleConsumer;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.store.ImageStore;

/**
 * Leaf-coalesce of a VDI of any size and format (VHD or qcow2, through {@link LeafImages}), active
 * or not: the leaf L's sectors are copied into its hidden parent P (L is P's only child) while L
 * stays writable; then L's I/O is paused only for the final switch, after which P's file is L.
 *
 * <ol>
 *   <li>Under the SR lock: a {@link LeafWriteTracker} is set on L's device (and kept by the SR, so
 *       that an activation of L voids the attempt).
 *   <li>Round 0, without the SR lock: every block L holds is copied into P, one block at a time
 *       under the device's read lock (a snapshot or pause waits at most one block), paced by the
 *       {@link GcThrottle}; P is flushed ({@code gc.leaf-round-copied}).
 *   <li>Catch-up rounds: the sectors written meanwhile (the tracker's) are copied again, until they
 *       are few ({@link #FINAL_MAX_BYTES}); a leaf written faster than it can be copied is given up
 *       after {@link #MAX_ROUNDS} rounds and tried again by a later pass.
 *   <li>Final switch, under the SR lock, after checking that L and P are still leaf and only-child
 *       parent and that L's chain was never reopened: the journal {@code .gc-leaf-L} ({@code
 *       gc.leaf-logged}); pause L's I/O without closing it; copy the last sectors written; flush P
 *       ({@code gc.leaf-copied}); close L's chain; rename L aside to {@code .old-L.vhd} (or {@code
 *       .qcow2}) ({@code gc.leaf-moved}); rename P to L ({@code gc.parent-renamed}); unhide it
 *       ({@code gc.leaf-unhidden}); resume L's device on the new file; delete the old leaf and the
 *       journal.
 * </ol>
 *
 * <p>Crash safety. Before the journal exists, only P has changed, and only in sectors L holds:
 * every reader of P reads through L (its only child), which holds those sectors itself, so the
 * copies are invisible and a crash leaves nothing to undo (the next attempt copies again). With the
 * journal ({@link #recover}): while P's file still exists, L is intact, maybe moved aside: move it
 * back, drop the journal (undo); once P's file is gone it is L: unhide it, delete the old leaf,
 * drop the journal (finish). A failure during the switch runs the same recovery before the device
 * resumes, so the device always reopens a complete L.
 */
final class LiveLeafCoalesce {
  /** Sectors written since the last round that may still be copied during the pause. */
  static final long FINAL_MAX_BYTES = 2L * 1024 * 1024;

  /** Sectors still copied during the pause when the rounds stopped shrinking. */
  static final long STALLED_MAX_BYTES = 16L * 1024 * 1024;

  /** Catch-up rounds before a leaf written faster than it is copied is given up for this pass. */
  static final int MAX_ROUNDS = 12;

  /** How it ended. */
  enum Outcome {
    /** L's data is in P, which is now L. */
    MERGED,
    /**
     * Not now: L changed (snapshot, (de)activation, resize) or is written too fast; retry later.
     */
    DEFERRED
  }

  /** What one attempt did; {@code pauseNanos} is how long L's I/O was paused (0 if never). */
  record Result(Outcome outcome, long bytesCopied, long pauseNanos) {}

  private final FileSr sr;
  private final ImageStore store;
  private final GcThrottle throttle;
  private final BooleanSupplier abort;
  private final Consumer<String> progress;
  private final DoubleConsumer step;

  /** The format of the leaf being merged (set by {@link #run}). */
  private ImageFormat format = ImageFormat.VHD;

  LiveLeafCoalesce(
      FileSr sr,
      GcThrottle throttle,
      BooleanSupplier abort,
      Consumer<String> progress,
      DoubleConsumer step) {
    this.sr = sr;
    this.store = sr.store;
    this.throttle = throttle;
    this.abort = abort;
    this.progress = progress;
    this.step = step;
  }

  /** Where the leaf's sectors are read: its active device, or an image of our own. */
  private interface Source {
    <T> T run(VhdVdiDevice.LeafWork<T> work) throws IOException;
  }

  /** Merges leaf {@code leaf} (of format {@code f}) into its hidden parent {@code parent}. */
  Result run(String leaf, String parent, ImageFormat f, long leafPhysicalBytes)
      throws IOException, SmException {
    this.format = f;
    try (LeafImages.Parent p = LeafImages.openParent(store, VhdTree.fileOf(parent, f), f)) {
      LeafWriteTracker tracker = new LeafWriteTracker(p.blockSize());
      LeafImages.OwnLeaf[] own = new LeafImages.OwnLeaf[1];
      // Under the SR lock, so that no snapshot or activation slips between the check and tracking.
      VhdVdiDevice device =
          sr.locked(
              () -> {
                VhdTree.Node n = sr.chainNode(leaf);
                if (n.hidden || !parent.equals(n.parentUuid) || sr.activeOnOtherHost(leaf)) {
                  return null;
                }
                VhdVdiDevice d = sr.activeDevice(leaf);
                sr.gcMeters().track(leaf, tracker);
                if (d != null) {
                  d.track(tracker);
                } else {
                  try {
                    own[0] = LeafImages.openLeaf(store, VhdTree.fileOf(leaf, f), f);
                  } catch (IOException e) {
                    throw SmErrors.of(e, SmError.GENERAL, "gc leaf-coalesce of " + leaf);
                  }
                }
                return d;
              });
      if (device == null && own[0] == null) {
        return new Result(Outcome.DEFERRED, 0, 0); // the tree changed since the choice
      }
      try {
        return copyAndSwitch(leaf, parent, leafPhysicalBytes, device, tracker, p, own[0]);
      } finally {
        if (own[0] != null) {
          own[0].close();
        }
        sr.locked(
            () -> {
              sr.gcMeters().untrack(leaf, tracker);
              if (device != null) {
                device.track(null);
              }
              return null;
            });
      }
    }
  }

  private Result copyAndSwitch(
      String leaf,
      String parent,
      long leafPhysicalBytes,
      VhdVdiDevice device,
      LeafWriteTracker tracker,
      LeafImages.Parent p,
      LeafImages.OwnLeaf own)
      throws IOException, SmException {
    Source src = device != null ? device::withLeaf : onImage(own);
    long copied;
    long virtual;
    try {
      virtual = src.run(LeafImages.Leaf::virtualSizeBytes);
      if (p.virtualSizeBytes() < virtual) {
        p.resize(virtual);
      }
      copied = roundZero(src, p, tracker, leafPhysicalBytes);
      long lastRound = Long.MAX_VALUE;
      for (int round = 1; !readyToSwitch(tracker.pendingBytes(), lastRound); round++) {
        if (round > MAX_ROUNDS || tracker.disturbed()) {
          progress.accept("gc: leaf " + leaf + " is written faster than it can be copied");
          return new Result(Outcome.DEFERRED, copied, 0);
        }
        Map<Integer, BitSet> drained = tracker.drain();
        lastRound = LeafWriteTracker.bytesOf(drained);
        copied += copyDrained(src, p, drained, tracker);
        p.flush();
        CrashPoints.hit("gc.leaf-round-copied");
      }
    } catch (LeafChanged e) {
      progress.accept("gc: leaf " + leaf + " changed during its coalesce; later");
      return new Result(Outcome.DEFERRED, 0, 0);
    } finally {
      step.accept(-1);
    }
    long copiedBefore = copied;
    return sr.locked(
        () -> {
          try {
            return finalSwitch(leaf, parent, virtual, device, tracker, p, own, copiedBefore);
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.GENERAL, "gc leaf-coalesce of " + leaf);
          }
        });
  }

  /**
   * Whether the sectors written since the last round are few enough to copy during the pause: under
   * {@link #FINAL_MAX_BYTES}, or, when rounds no longer shrink (a hot region rewritten as fast as
   * it is copied), under {@link #STALLED_MAX_BYTES}.
   */
  private static boolean readyToSwitch(long pending, long lastRound) {
    return pending <= FINAL_MAX_BYTES || (pending >= lastRound && pending <= STALLED_MAX_BYTES);
  }

  private static Source onImage(LeafImages.Leaf image) {
    return new Source() {
      @Override
      public <T> T run(VhdVdiDevice.LeafWork<T> work) throws IOException {
        return work.run(image);
      }
    };
  }

  /** The attempt is void: the leaf's chain was reopened (thrown between pieces of a copy). */
  private static final class LeafChanged extends IOException {
    LeafChanged() {
      super("leaf changed during its coalesce");
    }
  }

  private long roundZero(Source src, LeafImages.Parent p, LeafWriteTracker tracker, long total)
      throws IOException {
    BitSet blocks = src.run(LeafImages.Leaf::allocatedBlocks);
    ByteBuffer buf = ByteBuffer.allocate(p.blockSize());
    long copied = 0;
    step.accept(0);
    for (int b = blocks.nextSetBit(0); b >= 0; b = blocks.nextSetBit(b + 1)) {
      int block = b;
      copied += piece(src, tracker, l -> l.copyBlock(p, block, null, buf));
      step.accept(Math.min(1.0, (double) copied / Math.max(1, total)));
    }
    p.flush();
    CrashPoints.hit("gc.leaf-round-copied");
    return copied;
  }

  private long copyDrained(
      Source src, LeafImages.Parent p, Map<Integer, BitSet> drained, LeafWriteTracker tracker)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(p.blockSize());
    long copied = 0;
    for (Map.Entry<Integer, BitSet> e : drained.entrySet()) {
      copied += piece(src, tracker, l -> l.copyBlock(p, e.getKey(), e.getValue(), buf));
    }
    return copied;
  }

  /** One block's copy: checked for abort and a voided attempt, then paid for to the throttle. */
  private long piece(Source src, LeafWriteTracker tracker, VhdVdiDevice.LeafWork<Long> work)
      throws IOException {
    if (abort.getAsBoolean()) {
      throw new InterruptedIOException("garbage collection aborted");
    }
    long n =
        src.run(
            l -> {
              if (tracker.disturbed()) {
                throw new LeafChanged();
              }
              return work.run(l);
            });
    throttle.paid(n, abort);
    return n;
  }

  /** The switch, under the SR lock; L's I/O is paused only inside it. */
  private Result finalSwitch(
      String leaf,
      String parent,
      long virtual,
      VhdVdiDevice device,
      LeafWriteTracker tracker,
      LeafImages.Parent p,
      LeafImages.OwnLeaf own,
      long copied)
      throws IOException, SmException {
    VhdTree.Node l = sr.tree().get(leaf);
    if (l == null
        || l.hidden
        || !l.isLeaf()
        || l.parent() == null
        || !l.parent().uuid.equals(parent)
        || l.parent().children().size() != 1
        || l.virtualSizeBytes != virtual
        || tracker.disturbed()
        || sr.activeDevice(leaf) != device
        || sr.activeOnOtherHost(leaf)) {
      return new Result(Outcome.DEFERRED, copied, 0);
    }
    Map<String, String> j = new TreeMap<>();
    j.put("leaf", leaf);
    j.put("parent", parent);
    j.put("format", format.wireName());
    String journal = journalOf(leaf);
    PropertiesFile.write(store, journal, j);
    CrashPoints.hit("gc.leaf-logged");
    long start = System.nanoTime();
    long last;
    if (device != null) {
      device.pauseOpen();
    }
    try {
      Source src = device != null ? device::onLeaf : onImage(own);
      ByteBuffer buf = ByteBuffer.allocate(p.blockSize());
      long n = 0;
      for (Map.Entry<Integer, BitSet> e : tracker.drain().entrySet()) {
        n += src.run(lf -> lf.copyBlock(p, e.getKey(), e.getValue(), buf));
      }
      last = n;
      p.close();
      if (own != null) {
        own.close();
      }
      CrashPoints.hit("gc.leaf-copied");
      if (device != null) {
        device.closePaused();
      }
      store.rename(VhdTree.fileOf(leaf, format), oldLeafFile(leaf, format));
      store.syncMetadata();
      CrashPoints.hit("gc.leaf-moved");
      store.rename(VhdTree.fileOf(parent, format), VhdTree.fileOf(leaf, format));
      store.syncMetadata();
      CrashPoints.hit("gc.parent-renamed");
      format.setHidden(store, VhdTree.fileOf(leaf, format), false);
      CrashPoints.hit("gc.leaf-unhidden");
    } catch (IOException | RuntimeException e) {
      try {
        recover(store, journal); // the device must reopen a complete leaf
      } catch (IOException r) {
        e.addSuppressed(r);
      }
      throw e;
    } finally {
      if (device != null) {
        device.resume();
      }
    }
    long pause = System.nanoTime() - start;
    recover(store, journal); // finishes: deletes the old leaf and the journal
    progress.accept(
        "gc leaf-coalesced "
            + leaf
            + " ("
            + (copied + last)
            + " bytes, I/O paused "
            + pause / 1_000_000
            + " ms)");
    return new Result(Outcome.MERGED, copied + last, device == null ? 0 : pause);
  }

  static String journalOf(String leaf) {
    return ".gc-leaf-" + leaf;
  }

  static String oldLeafFile(String leaf) {
    return oldLeafFile(leaf, ImageFormat.VHD);
  }

  static String oldLeafFile(String leaf, ImageFormat f) {
    return ".old-" + leaf + f.extension();
  }

  /** Undoes or finishes the switch that journal {@code name} describes (see the class comment). */
  static void recover(ImageStore store, String name) throws IOException {
    Map<String, String> j = PropertiesFile.read(store, name);
    if (j == null) {
      return;
    }
    String leaf = j.get("leaf");
    String parent = j.get("parent");
    // Journals written before formats were recorded are VHD ones.
    ImageFormat f = ImageFormat.parse(j.getOrDefault("format", "vhd"));
    if (store.exists(VhdTree.fileOf(parent, f))) {
      // P was not renamed yet: L is intact (maybe moved aside); undo.
      if (store.exists(oldLeafFile(leaf, f))) {
        store.rename(oldLeafFile(leaf, f), VhdTree.fileOf(leaf, f));
        store.syncMetadata();
      }
    } else {
      f.setHidden(store, VhdTree.fileOf(leaf, f), false);
      if (store.exists(oldLeafFile(leaf, f))) {
        store.delete(oldLeafFile(leaf, f));
        store.syncMetadata();
      }
    }
    PropertiesFile.deleteIfExists(store, name);
  }
}
