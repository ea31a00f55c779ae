package org.xsm.iscsi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import org.junit.jupiter.api.Test;
import org.xsm.iscsi.control.ChangedBlocksAnswer;

/** The driver's side of a changed-blocks answer: decoding and regrouping to 64 KiB. */
class IscsiCbtTest {
  private static BitSet bits(int... set) {
    BitSet b = new BitSet();
    for (int i : set) {
      b.set(i);
    }
    return b;
  }

  @Test
  void decodesTheBitmapMostSignificantBitFirst() {
    ChangedBlocksAnswer a = new ChangedBlocksAnswer(65536, 1311232, 4, "gGAI"); // 80 60 08
    assertThat(a.changed()).isEqualTo(bits(0, 9, 10, 20));
  }

  @Test
  void smallerBlocksMarkTheGranuleTheyTouch() {
    // 4 KiB blocks 0, 15 (granule 0), 16 (granule 1), 47 (granule 2)
    assertThat(IscsiCbt.regroup(bits(0, 15, 16, 47), 4096)).isEqualTo(bits(0, 1, 2));
  }

  @Test
  void largerOrUnalignedBlocksMarkEveryGranuleTheyOverlap() {
    // a 1 MiB block 1 covers granules 16..31
    BitSet mib = new BitSet();
    mib.set(16, 32);
    assertThat(IscsiCbt.regroup(bits(1), 1 << 20)).isEqualTo(mib);
    // a 96 KiB block 1 spans bytes [96 KiB, 192 KiB): granules 1 and 2
    assertThat(IscsiCbt.regroup(bits(1), 96 * 1024)).isEqualTo(bits(1, 2));
  }

  @Test
  void sixtyFourKibIsPassedThrough() {
    assertThat(IscsiCbt.regroup(bits(3, 5), 65536)).isEqualTo(bits(3, 5));
  }
}
