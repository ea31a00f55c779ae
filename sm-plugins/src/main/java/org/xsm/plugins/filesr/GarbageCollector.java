package org.xsm.plugins.filesr;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.vhd.Vhd;

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
 *   <li>{@code leaf} (L is being merged into P and renamed): if P still exists, L is intact: undo
 *       (restore L from {@code .old-L.vhd} if it was moved); else P is already L: finish (unhide,
 *       delete the old leaf).
 * </ul>
 *
 * <p>Space: before a coalesce, the free space must hold the child's data; if not, the candidate is
 * recorded in {@link GcReport#noSpace()} and skipped, never retried in a loop.
 *
 * <p>Locking: tree changes hold the SR lock; the long copy of step 2 runs without it (nothing else
 * writes hidden nodes). Devices of VDIs whose chain is re-linked are paused for the re-link.
 */
public final class GarbageCollector {
  /** Leaves with at most this much data are merged in one pause (xapi: 20 MiB). */
  static final long LEAF_LIVE_COALESCE_BYTES = 20L * 1024 * 1024;

  private static final int MAX_LEAF_ITERATIONS = 20;
  private static final int MAX_NO_PROGRESS = 3;

  private final FileSr sr;
  private final ImageStore store;
  private final Consumer<String> progress;
  private volatile boolean abort;
  private volatile double stepProgress = -1;

  /** What one run did. */
  public record GcReport(
      int garbageDeleted,
      int coalesced,
      int leafCoalesced,
      long bytesCopied,
      List<String> noSpace,
      boolean aborted) {}

  GarbageCollector(FileSr sr, Consumer<String> progress) {
    this.sr = sr;
    this.store = sr.store;
    this.progress = progress;
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
    sr.noteGcStep(fraction);
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
    final Map<String, LeafTracker> trackers = new HashMap<>();
  }

  /** Per-leaf iteration tracker (xapi's leaf-coalesce tracker). */
  private static final class LeafTracker {
    int iterations;
    int noProgress;
    long minSize = Long.MAX_VALUE;

    boolean giveUp(long size) {
      iterations++;
      if (size < minSize) {
        minSize = size;
        noProgress = 0;
      } else {
        noProgress++;
      }
      return iterations > MAX_LEAF_ITERATIONS
          || noProgress > MAX_NO_PROGRESS
          || size > minSize * 12 / 10;
    }
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
      recoverJournals(sr);
      while (!abort) {
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
        new GcReport(c.garbage, c.coalesced, c.leaf, c.bytes, List.copyOf(c.noSpace), abort);
    sr.noteGcRun(r);
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
                store.delete(VhdTree.fileOf(n.uuid));
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
    PropertiesFile.write(store, journal, j);
    CrashPoints.hit("gc.coalesce-logged");
    progress.accept("gc coalescing " + n.uuid + " into " + p.uuid);
    long total = Math.max(1, n.physicalSizeBytes);
    step(0);
    long copied;
    try {
      copied =
          Vhd.coalesce(
              store,
              VhdTree.fileOf(n.uuid),
              b -> {
                step(Math.min(1.0, (double) b / total));
                progress.accept("gc coalesce " + n.uuid + ": " + b + " bytes");
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
      sr.noteGcNoSpace(n.uuid);
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
    List<VhdVdiDevice> paused = sr.pauseDescendants(children);
    try {
      for (String ch : children) {
        if (store.exists(VhdTree.fileOf(ch))) {
          VhdTree.Node cn = sr.tree().get(ch);
          if (cn != null && node.equals(cn.parentUuid)) {
            Vhd.setParent(store, VhdTree.fileOf(ch), VhdTree.fileOf(parent));
            CrashPoints.hit("gc.relinked-child");
          }
        }
      }
      if (store.exists(VhdTree.fileOf(node))) {
        store.delete(VhdTree.fileOf(node));
        store.syncMetadata();
      }
      CrashPoints.hit("gc.node-deleted");
      PropertiesFile.deleteIfExists(store, journal);
    } finally {
      for (VhdVdiDevice d : paused) {
        d.resume();
      }
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
      LeafTracker t = c.trackers.computeIfAbsent(l.uuid, k -> new LeafTracker());
      if (t.iterations < 0 || c.noSpace.contains(l.uuid)) {
        continue;
      }
      if (l.physicalSizeBytes > LEAF_LIVE_COALESCE_BYTES) {
        if (t.giveUp(l.physicalSizeBytes)) {
          progress.accept("gc: leaf-coalesce of " + l.uuid + " does not converge; skipped");
          t.iterations = -1;
          continue;
        }
        // Snapshot-coalesce: the leaf's data becomes a hidden node that step 2 merges.
        progress.accept("gc snapshot-coalesce of " + l.uuid);
        sr.locked(() -> TreeOperations.snapshot(sr, l.uuid, SnapshotKind.INTERNAL, null, false));
        return true;
      }
      if (!hasSpaceFor(l, c)) {
        return true;
      }
      sr.locked(
          () -> {
            try {
              leafCoalesce(sr, l.uuid, p.uuid);
            } catch (IOException e) {
              throw SmErrors.of(e, SmError.GENERAL, "gc leaf-coalesce of " + l.uuid);
            }
            return null;
          });
      c.leaf++;
      c.bytes += l.physicalSizeBytes;
      t.iterations = -1;
      return true;
    }
    return false;
  }

  /** Merges leaf L into P and gives P L's name, with L's I/O paused; holds the SR lock. */
  private static void leafCoalesce(FileSr sr, String leaf, String parent)
      throws IOException, SmException {
    ImageStore store = sr.store;
    VhdTree.Node l = sr.tree().get(leaf);
    if (l == null
        || l.hidden
        || !l.isLeaf()
        || l.parent() == null
        || !l.parent().uuid.equals(parent)
        || l.parent().children().size() != 1) {
      return; // the tree changed since the candidate was chosen
    }
    Map<String, String> j = new TreeMap<>();
    j.put("leaf", leaf);
    j.put("parent", parent);
    String journal = ".gc-leaf-" + leaf;
    PropertiesFile.write(store, journal, j);
    CrashPoints.hit("gc.leaf-logged");
    VhdVdiDevice d = sr.activeDevice(leaf);
    if (d != null) {
      d.pause();
    }
    try {
      Vhd.coalesce(store, VhdTree.fileOf(leaf));
      CrashPoints.hit("gc.leaf-copied");
      store.rename(VhdTree.fileOf(leaf), oldLeafFile(leaf));
      store.syncMetadata();
      CrashPoints.hit("gc.leaf-moved");
      store.rename(VhdTree.fileOf(parent), VhdTree.fileOf(leaf));
      store.syncMetadata();
      CrashPoints.hit("gc.parent-renamed");
      finishLeaf(store, leaf, journal);
    } finally {
      if (d != null) {
        d.resume();
      }
    }
  }

  static String oldLeafFile(String leaf) {
    return ".old-" + leaf + ".vhd";
  }

  private static void finishLeaf(ImageStore store, String leaf, String journal) throws IOException {
    Vhd.setHidden(store, VhdTree.fileOf(leaf), false);
    CrashPoints.hit("gc.leaf-unhidden");
    if (store.exists(oldLeafFile(leaf))) {
      store.delete(oldLeafFile(leaf));
      store.syncMetadata();
    }
    PropertiesFile.deleteIfExists(store, journal);
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
        Map<String, String> j = PropertiesFile.read(store, name);
        String leaf = j.get("leaf");
        String parent = j.get("parent");
        if (store.exists(VhdTree.fileOf(parent))) {
          // P was not renamed yet: L is intact (maybe moved aside); undo.
          if (store.exists(oldLeafFile(leaf))) {
            store.rename(oldLeafFile(leaf), VhdTree.fileOf(leaf));
            store.syncMetadata();
          }
          PropertiesFile.deleteIfExists(store, name);
        } else {
          finishLeaf(store, leaf, name);
        }
      }
    }
  }
}
