package org.xsm.plugins.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link FileReads#ordered}: sorted by file and offset, close reads of one file made one. */
class FileReadsTest {
  private static final FileRead.Reader NONE = (dst, offset) -> {};

  private static FileRead r(int file, long offset, int length) {
    return new FileRead(file, offset, length, NONE);
  }

  /** The reads as (file, offset, length) triples, for comparison. */
  private static List<String> shape(List<FileRead> reads) {
    return reads.stream().map(x -> x.file() + "@" + x.offset() + "+" + x.length()).toList();
  }

  @Test
  void sortsByFileThenOffset() {
    List<FileRead> in = List.of(r(2, 0, 10), r(0, 500, 10), r(1, 7, 10), r(0, 100, 10));
    assertThat(shape(FileReads.ordered(in, 0, 1 << 20)))
        .containsExactly("0@100+10", "0@500+10", "1@7+10", "2@0+10");
  }

  @Test
  void mergesAdjacentAndNearReadsOfOneFileOnly() {
    List<FileRead> in =
        List.of(
            r(0, 0, 100),
            r(0, 100, 50), // adjacent
            r(0, 160, 40), // 10 bytes apart: within the gap
            r(0, 211, 9), // 11 apart: not
            r(1, 220, 10)); // another file, right after: not
    assertThat(shape(FileReads.ordered(in, 10, 1 << 20)))
        .containsExactly("0@0+200", "0@211+9", "1@220+10");
  }

  @Test
  void overlappingReadsBecomeTheirUnion() {
    List<FileRead> in = List.of(r(3, 100, 100), r(3, 50, 100), r(3, 120, 20));
    assertThat(shape(FileReads.ordered(in, 0, 1 << 20))).containsExactly("3@50+150");
  }

  @Test
  void mergedReadsStayWithinTheLimitAndLongOnesStayWhole() {
    List<FileRead> in = List.of(r(0, 0, 60), r(0, 60, 60), r(0, 120, 300), r(0, 420, 10));
    assertThat(shape(FileReads.ordered(in, 0, 128)))
        .containsExactly("0@0+120", "0@120+300", "0@420+10");
  }

  @Test
  void overlapsTooLongToMergeAreTrimmedOrDropped() {
    List<FileRead> in = List.of(r(0, 0, 100), r(0, 50, 100), r(0, 60, 20), r(0, 150, 100));
    assertThat(shape(FileReads.ordered(in, 0, 120)))
        .containsExactly("0@0+100", "0@100+50", "0@150+100");
  }

  @Test
  void theMergedReadUsesTheFirstReadsReaderOverTheWholeSpan() throws Exception {
    List<String> calls = new ArrayList<>();
    FileRead.Reader a = (dst, offset) -> calls.add("a " + offset + " " + dst.remaining());
    FileRead.Reader b = (dst, offset) -> calls.add("b " + offset + " " + dst.remaining());
    List<FileRead> out =
        FileReads.ordered(List.of(new FileRead(0, 64, 32, b), new FileRead(0, 0, 32, a)), 32, 1024);
    assertThat(out).hasSize(1);
    FileRead m = out.get(0);
    m.reader().read(ByteBuffer.allocate(m.length()), m.offset());
    assertThat(calls).containsExactly("a 0 96");
  }

  /** Random reads: every byte asked for is covered, per file, and nothing more than the gaps. */
  @Test
  void randomReadsAreCoveredExactlyUpToTheGaps() {
    Random rnd = new Random(11);
    for (int round = 0; round < 200; round++) {
      int gap = rnd.nextInt(3) * 16;
      int limit = 64 + rnd.nextInt(256);
      List<FileRead> in = new ArrayList<>();
      BitSet[] asked = {new BitSet(), new BitSet(), new BitSet()};
      for (int i = 0; i < 30; i++) {
        int file = rnd.nextInt(3);
        int off = rnd.nextInt(2000);
        int len = 1 + rnd.nextInt(100);
        in.add(r(file, off, len));
        asked[file].set(off, off + len);
      }
      List<FileRead> out = FileReads.ordered(in, gap, limit);
      BitSet[] read = {new BitSet(), new BitSet(), new BitSet()};
      FileRead prev = null;
      for (FileRead x : out) {
        if (prev != null) {
          assertThat(x.file() > prev.file() || x.offset() >= prev.end())
              .as("sorted and disjoint: %s after %s", x, prev)
              .isTrue();
        }
        read[x.file()].set((int) x.offset(), (int) x.end());
        prev = x;
      }
      for (int f = 0; f < 3; f++) {
        BitSet missing = (BitSet) asked[f].clone();
        missing.andNot(read[f]);
        assertThat(missing.isEmpty()).as("file %d: bytes asked but not read", f).isTrue();
        BitSet extra = (BitSet) read[f].clone();
        extra.andNot(asked[f]);
        // Extra bytes only in gaps of at most `gap` between asked ranges.
        for (int s = extra.nextSetBit(0); s >= 0; ) {
          int e = extra.nextClearBit(s);
          assertThat(e - s).as("file %d: extra bytes %d..%d", f, s, e).isLessThanOrEqualTo(gap);
          assertThat(asked[f].get(s - 1) && asked[f].get(e)).isTrue();
          s = extra.nextSetBit(e);
        }
      }
    }
  }

  @Test
  void emptyOrBadReadsAreRefused() {
    assertThat(FileReads.ordered(List.of(), 0, 1)).isEmpty();
    assertThatThrownBy(() -> r(0, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> r(-1, 0, 1)).isInstanceOf(IllegalArgumentException.class);
  }
}
