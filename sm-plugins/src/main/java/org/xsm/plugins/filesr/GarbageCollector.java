package org.xsm.plugins.filesr;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.plugins.store.ImageStore;

/**
 * The garbage collector and coalescer of a VHD-tree SR, after xapi's cleanup.py, on the same {@link
 * VhdTree} model as the SR operations. One {@link #run} loops until nothing is left to do:
 *
 * <ol>
 *   <li>delete garbage: hidden leaves, and hidden subtrees with no VDI in them;
 *   <li>coalesce one hidden node N into its hidden parent P when N is P's only child (tallest tree
 *       first): copy N's sectors into P, re-parent N's children to P, delete N;
 *   <li>otherwise leaf-coalesce one VDI L, a leaf that is its hidden parent P's only child: while L
 *       holds much data, take an internal snapshot of it (its data becomes a hidden node that step
 *       2 merges, while L keeps taking writes); once small, pause L's I/O, merge L into P and let P
 *       take L's name.
 * </ol>
 *
 * <p>Crash safety, by journal ({@code .gc-<kind>-<uuid>}, written before and deleted after):
 *
 * <ul>
 *   <li>{@code coalesce} (N's sectors are being copied into P): undone by dropping the journal. The
 *       copy is invisible (only N's subtree reads P, and N holds those sectors), and the next run
 *       redoes it.
 *   <li>{@code relink} (the copy is complete, children are being re-parented to P): finished:
 *       re-parent the children still pointing at N, delete N.
 *   <li>{@code leaf} (L's final switch): see {@link LiveLeafCoalesce#recover}. The rounds before it
 *       need no journal: they only add to P sectors L holds.
 * </ul>
 *
 * <p>Space: before a coalesce, the free space must hold the child's data; if not, the candidate is
 * recorded in {@link GcReport#noSpace()} and skipped, never retried in a loop.
 *
 * <p>Locking: tree changes hold the SR lock; the long copy of step 2 runs without it (nothing else
 * writes hidden nodes). Devices of VDIs whose chain is re-linked are paused for the re-link.
 */
public final class GarbageCollector {
  private final FileSr sr;
  private final ImageStore store;
  private final Consumer<String> progress;
  private final GcThrottle throttle;
  private volatile boolean abort;
  private volatile double stepProgress = -1;

  /**
   * What one run did.
   *
   * @param deferred leaves whose coalesce was put off (written faster than copied, or changed
   *     during it): a later pass retries them
   * @param longestPauseNanos the longest I/O pause of a final leaf switch
   * @param pausesOverBudget final leaf switches that paused I/O for more than 100 ms
   */
  public record GcReport(
      int garbageDeleted,
      int coalesced,
      int leafCoalesced,
      long bytesCopied,
      List<String> noSpace,
      List<String> deferred,
      long longestPauseNanos,
      int pausesOverBudget,
      boolean aborted) {

    /** Whether the pass left work it could not do now (a later pass should retry). */
    public boolean leftWork() {
      return !noSpace.isEmpty() || !deferred.isEmpty();
    }
  }

  private final boolean background;

  /**
   * A collector of {@code sr}. A {@code background} one leaves alone, for a while, leaves whose
   * coalesce an earlier pass put off; an explicit one ({@link FileSr#collectGarbage}) tries all.
   */
  GarbageCollector(FileSr sr, Consumer<String> progress, boolean background) {
    this.sr = sr;
    this.store = sr.store;
    this.progress = progress;
    this.throttle = sr.gcThrottle();
    this.background = background;
  }

  /**
   * How far the running coalesce has got (bytes copied over the child's physical size, so an
   * estimate that ends at 1), or -1 between coalesces.
   */
  double stepProgress() {
    return stepProgress;
  }

  private void step(double fraction) {
    stepProgress = fraction;
    sr.gcMeters().step(fraction);
  }

  /** Asks a running {@link #run} to stop at the next step (SR detach). */
  void abort() {
    abort = true;
  }

  private final class Counts {
    int garbage;
    int coalesced;
    int leaf;
    long bytes;
    final List<String> noSpace = new ArrayList<>();
    final List<String> deferred = new ArrayList<>();
    long longestPause;
    int overBudget;
  }

  /** Runs until there is nothing left to collect or coalesce, or until aborted. */
  public GcReport run() throws SmException {
    synchronized (sr.gcMutex) {
      return runExclusive();
    }
  }

  private GcReport runExclusive() throws SmException {
    Counts c = new Counts();
    try {
      sr.locked(
          () -> {
            try {
              recoverJournals(sr);
            } catch (IOException e) {
              throw SmErrors.of(e, SmError.GENERAL, "gc recovery of SR " + sr.uuid());
            }
            return null;
          });
      while (!abort) {
        sr.measureBacklog();
        if (deleteGarbage(c)) {
          continue;
        }
        if (coalesceOne(c)) {
          continue;
        }
        if (leafCoalesceOne(c)) {
          continue;
        }
        break;
      }
    } catch (InterruptedIOException e) {
      abort = true;
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.GENERAL, "garbage collection of SR " + sr.uuid());
    }
    GcReport r =
        new GcReport(
            c.garbage,
            c.coalesced,
            c.leaf,
            c.bytes,
            List.copyOf(c.noSpace),
            List.copyOf(c.deferred),
            c.longestPause,
            c.overBudget,
            abort);
    sr.gcMeters().addRun(r);
    if (!abort) {
      sr.measureBacklog();
    }
    progress.accept("gc finished: " + r);
    return r;
  }

  // ---- step 1: garbage ----

  private boolean deleteGarbage(Counts c) throws SmException, IOException {
    return sr.locked(
        () -> {
          VhdTree tree = sr.tree();
          boolean any = false;
          for (VhdTree.Node n : tree.nodes()) {
            if (n.hidden && n.isLeaf()) {
              try {
                store.delete(n.file());
                PropertiesFile.deleteIfExists(store, FileSr.metaFileOf(n.uuid));
              } catch (IOException e) {
                throw SmErrors.of(e, SmError.VDI_DELETE, "gc delete of " + n.uuid);
              }
              progress.accept("gc deleted garbage " + n.uuid);
              c.garbage++;
              any = true;
            }
          }
          if (any) {
            try {
              store.syncMetadata();
            } catch (IOException e) {
              throw SmErrors.of(e, SmError.VDI_DELETE, "gc delete");
            }
          }
          return any;
        });
  }

  // ---- step 2: coalesce a hidden node into its only-child parent ----

  private static int height(VhdTree.Node n) {
    int h = 0;
    for (VhdTree.Node ch : n.children()) {
      h = Math.max(h, 1 + height(ch));
    }
    return h;
  }

  private static VhdTree.Node root(VhdTree.Node n) {
    VhdTree.Node r = n;
    while (r.parent() != null) {
      r = r.parent();
    }
    return r;
  }

  private boolean coalesceOne(Counts c) throws SmException, IOException {
    VhdTree tree = sr.locked(sr::tree);
    List<VhdTree.Node> candidates = new ArrayList<>();
    for (VhdTree.Node n : tree.nodes()) {
      VhdTree.Node p = n.parent();
      if (n.hidden && !n.isLeaf() && p != null && p.hidden && p.children().size() == 1) {
        if (!c.noSpace.contains(n.uuid)) {
          candidates.add(n);
        }
      }
    }
    if (candidates.isEmpty()) {
      return false;
    }
    candidates.sort(Comparator.comparingInt((VhdTree.Node n) -> -height(root(n))));
    VhdTree.Node n = candidates.get(0);
    VhdTree.Node p = n.parent();
    if (!hasSpaceFor(n, c)) {
      return true;
    }
    Map<String, String> j = new TreeMap<>();
    j.put("node", n.uuid);
    j.put("parent", p.uuid);
    String journal = ".gc-coalesce-" + n.uuid;
    // Under the lock: a scan's recovery removes temporary files, the journal's among them.
    sr.locked(
        () -> {
          try {
            PropertiesFile.write(store, journal, j);
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.GENERAL, "gc journal of " + n.uuid);
          }
          return null;
        });
    CrashPoints.hit("gc.coalesce-logged");
    progress.accept("gc coalescing " + n.uuid + " into " + p.uuid);
    long total = Math.max(1, n.physicalSizeBytes);
    step(0);
    long copied;
    long[] paid = {0};
    try {
      copied =
          n.format.coalesce(
              store,
              n.file(),
              b -> {
                step(Math.min(1.0, (double) b / total));
                progress.accept("gc coalesce " + n.uuid + ": " + b + " bytes");
                pace(b - paid[0]);
                paid[0] = b;
              },
              () -> abort);
    } finally {
      step(-1);
    }
    CrashPoints.hit("gc.coalesce-copied");
    c.bytes += copied;
    sr.locked(
        () -> {
          try {
            relink(sr, n.uuid, p.uuid, journal);
          } catch (IOException e) {
            throw SmErrors.of(e, SmError.GENERAL, "gc relink of " + n.uuid);
          }
          return null;
        });
    c.coalesced++;
    return true;
  }

  private boolean hasSpaceFor(VhdTree.Node n, Counts c) throws IOException {
    long free = store.freeBytes();
    if (free >= 0 && free < n.physicalSizeBytes) {
      c.noSpace.add(n.uuid);
      progress.accept(
          "gc: no space to coalesce "
              + n.uuid
              + " ("
              + n.physicalSizeBytes
              + " bytes needed, "
              + free
              + " free)");
      sr.gcMeters().addNoSpace(n.uuid);
      return false;
    }
    return true;
  }

  /** Re-parents N's children to P and deletes N; the caller holds the SR lock. */
  private static void relink(FileSr sr, String node, String parent, String coalesceJournal)
      throws IOException, SmException {
    ImageStore store = sr.store;
    VhdTree tree = sr.tree();
    VhdTree.Node n = tree.get(node);
    Map<String, String> j = new TreeMap<>();
    j.put("node", node);
    j.put("parent", parent);
    List<String> children = new ArrayList<>();
    if (n != null) {
      for (VhdTree.Node ch : n.children()) {
        children.add(ch.uuid);
      }
    }
    j.put("children", String.join(",", children));
    String journal = ".gc-relink-" + node;
    PropertiesFile.write(store, journal, j);
    if (coalesceJournal != null) {
      PropertiesFile.deleteIfExists(store, coalesceJournal);
    }
    CrashPoints.hit("gc.relink-logged");
    finishRelink(sr, node, parent, children, journal);
  }

  private static void finishRelink(
      FileSr sr, String node, String parent, List<String> children, String journal)
      throws IOException, SmException {
    ImageStore store = sr.store;
    List<Pausable> paused = sr.pauseDescendants(children);
    try {
      for (String ch : children) {
        String chFile = VhdTree.existingFile(store, ch);
        if (store.exists(chFile)) {
          VhdTree.Node cn = sr.tree().get(ch);
          if (cn != null && node.equals(cn.parentUuid)) {
            cn.format.setParent(store, chFile, VhdTree.existingFile(store, parent));
            CrashPoints.hit("gc.relinked-child");
          }
        }
      }
      String nodeFile = VhdTree.existingFile(store, node);
      if (store.exists(nodeFile)) {
        store.delete(nodeFile);
        store.syncMetadata();
      }
      CrashPoints.hit("gc.node-deleted");
      PropertiesFile.deleteIfExists(store, journal);
    } finally {
      for (Pausable d : paused) {
        d.resume();
      }
    }
  }

  /** Pays the throttle for bytes copied; an abort surfaces as the copy's own abort. */
  private void pace(long bytes) {
    try {
      throttle.paid(bytes, () -> abort);
    } catch (InterruptedIOException e) {
      abort = true; // the format's coalesce checks the flag before its next block
    }
  }

  // ---- step 3: leaf-coalesce ----

  private boolean leafCoalesceOne(Counts c) throws SmException, IOException {
    VhdTree tree = sr.locked(sr::tree);
    for (VhdTree.Node l : tree.nodes()) {
      VhdTree.Node p = l.parent();
      if (l.hidden || !l.isLeaf() || p == null || !p.hidden || p.children().size() != 1) {
        continue;
      }
      if (c.deferred.contains(l.uuid)
          || c.noSpace.contains(l.uuid)
          || sr.activeOnOtherHost(l.uuid) // its writes happen where no tracker sees them
          || (background && !sr.gcMeters().leafDue(l.uuid))) {
        continue;
      }
      if (!hasSpaceFor(l, c)) {
        return true;
      }
      progress.accept("gc leaf-coalescing " + l.uuid + " into " + p.uuid);
      LiveLeafCoalesce.Result r =
          new LiveLeafCoalesce(sr, throttle, () -> abort, progress, this::step)
              .run(l.uuid, p.uuid, l.format, l.physicalSizeBytes);
      c.bytes += r.bytesCopied();
      if (r.outcome() == LiveLeafCoalesce.Outcome.MERGED) {
        sr.gcMeters().leafDone(l.uuid);
        c.leaf++;
        c.longestPause = Math.max(c.longestPause, r.pauseNanos());
        if (r.pauseNanos() > GcMeters.PAUSE_BUDGET_NANOS) {
          c.overBudget++;
        }
      } else {
        sr.gcMeters().leafDeferred(l.uuid);
        c.deferred.add(l.uuid);
      }
      return true;
    }
    return false;
  }

  // ---- recovery ----

  /** Resumes or undoes what a crash interrupted; the caller must not hold other GC work. */
  static void recoverJournals(FileSr sr) throws IOException, SmException {
    ImageStore store = sr.store;
    for (String name : store.list()) {
      if (name.endsWith(".tmp")) {
        continue;
      }
      if (name.startsWith(".gc-coalesce-")) {
        PropertiesFile.deleteIfExists(store, name);
      } else if (name.startsWith(".gc-relink-")) {
        Map<String, String> j = PropertiesFile.read(store, name);
        String kids = j.getOrDefault("children", "");
        List<String> children = kids.isEmpty() ? List.of() : List.of(kids.split(","));
        sr.locked(
            () -> {
              try {
                finishRelink(sr, j.get("node"), j.get("parent"), children, name);
              } catch (IOException e) {
                throw SmErrors.of(e, SmError.GENERAL, "gc relink recovery");
              }
              return null;
            });
      } else if (name.startsWith(".gc-leaf-")) {
        LiveLeafCoalesce.recover(store, name);
      }
    }
  }
}
