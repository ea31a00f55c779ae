package org.xsm.plugins.qcow2;

import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Consistency of one qcow2 file's metadata, as {@code qemu-img check} sees it: every cluster the
 * header, the tables and the L2 entries use is counted exactly as often as it is used, and the
 * copied flags agree with the counts. Leaks (clusters counted but unused) are reported apart: a
 * crash between the ordered writes of {@link Qcow2Image} may leave them, nothing worse.
 */
public final class Qcow2Check {
  private Qcow2Check() {}

  /** What a check found: problems (damage) and leaked clusters (harmless). */
  public record Result(List<String> errors, long leakedClusters) {
    public boolean isClean() {
      return errors.isEmpty() && leakedClusters == 0;
    }
  }

  private static final int MAX_MESSAGES = 50;

  /** Checks an open image. */
  public static Result check(Qcow2Image img) throws IOException {
    synchronized (img) {
      return new Scan(img).run(false);
    }
  }

  /**
   * Releases leaked clusters (writes the corrected counts, forces) and clears the dirty bit. Used
   * on a writable open of an image a writer did not close.
   *
   * @throws Qcow2FormatException if the image has damage beyond leaks
   */
  static void repair(Qcow2Image img) throws IOException {
    synchronized (img) {
      Result r = new Scan(img).run(true);
      if (!r.errors().isEmpty()) {
        throw Qcow2Header.bad(
            img.where(),
            "was not closed cleanly and has damage beyond leaks: " + r.errors().get(0));
      }
      if (img.refcounts().writeDirty()) {
        img.file().force();
      }
      img.clearDirtyBit();
    }
  }

  private static final class Scan {
    private final Qcow2Image img;
    private final Qcow2Header h;
    private final int bits;
    private final BitSet used = new BitSet();
    private final Map<Long, Integer> shared = new HashMap<>();
    private final List<String> errors = new ArrayList<>();
    private long limit;

    Scan(Qcow2Image img) {
      this.img = img;
      this.h = img.header();
      this.bits = h.clusterBits();
    }

    Result run(boolean fixLeaks) throws IOException {
      if (h.nbSnapshots() > 0) {
        errors.add(
            "images with internal snapshots are not checked (" + h.nbSnapshots() + " snapshots)");
        return new Result(errors, 0);
      }
      limit = img.roundUp(Math.max(img.file().size(), 1)) >> bits;
      use(0, "the header");
      useRange(h.l1TableOffset(), h.l1Size() * 8L, "the L1 table");
      useRange(
          h.refcountTableOffset(), (long) h.refcountTableClusters() << bits, "the refcount table");
      Refcounts rc = img.refcounts();
      for (int r = 0; r < rc.tableLength(); r++) {
        if (rc.tableEntry(r) != 0) {
          use(rc.tableEntry(r) >> bits, "refcount block " + r);
        }
      }
      L2Tables l2 = img.l2();
      for (int i = 0; i < l2.l1Size(); i++) {
        long e = l2.l1Entry(i);
        long off = e & Entries.OFFSET_MASK;
        if (off == 0) {
          continue;
        }
        use(off >> bits, "L2 table " + i);
        copiedFlag(e, off >> bits, "L1 entry " + i);
        long[] t = l2.peek(i);
        for (int k = 0; k < t.length; k++) {
          entry(t[k], "L2 table " + i + " entry " + k);
        }
      }
      long leaks = 0;
      for (int r = 0; r < rc.tableLength(); r++) {
        if (rc.tableEntry(r) == 0) {
          continue;
        }
        long from = r * rc.clustersPerBlock();
        for (long c = from; c < from + rc.clustersPerBlock(); c++) {
          long have = rc.get(c);
          long want = expected(c);
          if (have == want) {
            continue;
          }
          if (have > want && want == 0) {
            leaks++;
            if (fixLeaks) {
              rc.set(c, 0);
            }
          } else {
            error("cluster " + c + " is counted " + have + " times but used " + want + " times");
          }
        }
      }
      for (int c = used.nextSetBit(0); c >= 0; c = used.nextSetBit(c + 1)) {
        if (!rc.hasBlockFor(c)) {
          error("cluster " + c + " is used but has no refcount block");
        }
      }
      return new Result(List.copyOf(errors), fixLeaks ? 0 : leaks);
    }

    private long expected(long c) {
      return (c < Integer.MAX_VALUE && used.get((int) c) ? 1 : 0) + shared.getOrDefault(c, 0);
    }

    private void entry(long e, String what) throws IOException {
      if (Entries.isCompressed(e)) {
        long start = Entries.compressedOffset(e, bits);
        long end = start + Entries.compressedBytes(e, bits) - 1;
        for (long c = start >> bits; c <= end >> bits; c++) {
          shared.merge(c, 1, Integer::sum);
        }
        return;
      }
      String p = Entries.problem(e, bits, limit << bits);
      if (p != null) {
        error(what + ": " + p);
        return;
      }
      long off = Entries.hostOffset(e);
      if (off != 0) {
        use(off >> bits, what);
        copiedFlag(e, off >> bits, what);
      }
    }

    private void copiedFlag(long e, long cluster, String what) throws IOException {
      boolean copied = (e & Entries.COPIED) != 0;
      long count = img.refcounts().get(cluster);
      if (copied != (count == 1)) {
        error(what + ": copied flag " + (copied ? "set" : "clear") + " but refcount " + count);
      }
    }

    private void useRange(long offset, long bytes, String what) {
      for (long c = offset >> bits; c < (offset + bytes + (1L << bits) - 1) >> bits; c++) {
        use(c, what);
      }
    }

    private void use(long c, String what) {
      if (c >= limit || c >= Integer.MAX_VALUE) {
        error(what + " uses cluster " + c + " past the file end");
        return;
      }
      if (used.get((int) c)) {
        error(what + " uses cluster " + c + ", which is already used");
        shared.merge(c, 1, Integer::sum);
        return;
      }
      used.set((int) c);
    }

    private void error(String message) {
      if (errors.size() < MAX_MESSAGES) {
        errors.add(message);
      }
    }
  }
}
