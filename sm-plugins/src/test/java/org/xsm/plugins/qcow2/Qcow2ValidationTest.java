package org.xsm.plugins.qcow2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.xsm.plugins.store.CrashingImageStore;
import org.xsm.plugins.store.ImageFile;

/** Opening a damaged or unsupported qcow2 file fails with one precise message per check. */
class Qcow2ValidationTest {
  private static final int SIZE = 4 << 20;

  private CrashingImageStore image(Consumer<ByteBuffer> damage) throws IOException {
    CrashingImageStore s = new CrashingImageStore();
    Qcow2.create(s, "d.qcow2", SIZE);
    byte[] b = s.bytes("d.qcow2");
    ByteBuffer buf = ByteBuffer.wrap(b);
    damage.accept(buf);
    try (ImageFile f = s.open("d.qcow2", true)) {
      f.writeFully(ByteBuffer.wrap(b), 0);
      f.force();
    }
    return s;
  }

  private void assertRefused(Consumer<ByteBuffer> damage, String message) throws IOException {
    CrashingImageStore s = image(damage);
    assertThatThrownBy(() -> Qcow2Image.open(s, "d.qcow2", false).close())
        .isInstanceOf(Qcow2FormatException.class)
        .hasMessageStartingWith("qcow2 mem:d.qcow2: ")
        .hasMessageContaining(message);
  }

  @Test
  void theHeaderIsValidatedFieldByField() throws IOException {
    assertRefused(b -> b.putInt(0, 0x12345678), "bad magic 0x12345678, expected 0x514649fb");
    assertRefused(b -> b.putInt(4, 2), "qcow2 version 2 is not supported");
    assertRefused(b -> b.putInt(20, 8), "cluster_bits 8 is outside 9..21");
    assertRefused(b -> b.putInt(32, 1), "encrypted images are not supported");
    assertRefused(b -> b.putInt(36, 0), "L1 table of 0 entries is too small");
    assertRefused(b -> b.putLong(40, 1000), "L1 table offset 0x3e8 is not cluster aligned");
    assertRefused(b -> b.putLong(40, 1L << 30), "L1 table at 0x40000000");
    assertRefused(b -> b.putLong(48, 3), "refcount table offset 0x3 is not cluster aligned");
    assertRefused(b -> b.putInt(56, 0), "refcount table of 0 clusters");
    assertRefused(
        b -> b.putLong(72, 1 << 4), "extended L2 entries (subclusters) are not supported");
    assertRefused(b -> b.putLong(72, 1 << 2), "external data files are not supported");
    assertRefused(b -> b.putLong(72, 1 << 9), "unknown incompatible features 0x200");
    assertRefused(b -> b.putInt(96, 7), "refcount_order 7 is outside 0..6");
    assertRefused(b -> b.putInt(100, 60), "header_length 60");
    assertRefused(
        b -> b.putInt(112, 0x11223344).putInt(116, 100_000), "header extension 0x11223344");
  }

  @Test
  void tablesAndEntriesAreValidated() throws IOException {
    // L1 entry 0 points to an unaligned "table".
    assertRefused(
        b -> b.putLong(3 * 65536, 65536 + 8), "L1 entry 0 (0x10008) has reserved bits set");
    assertRefused(
        b -> b.putLong(3 * 65536, 1L << 40),
        "L1 entry 0 points to L2 table 0x10000000000 past the file end");
    assertRefused(
        b -> b.putLong(65536, 12345), "refcount table entry 0 (0x3039) is not a cluster offset");
  }

  @Test
  void damagedL2EntriesAreReportedWhenRead() throws IOException {
    CrashingImageStore s = new CrashingImageStore();
    Qcow2.create(s, "d.qcow2", SIZE);
    try (Qcow2Chain c = Qcow2Chain.open(s, "d.qcow2", true)) {
      c.write(ByteBuffer.allocate(4096), 0);
    }
    byte[] b = s.bytes("d.qcow2");
    long l2 = ByteBuffer.wrap(b).getLong(3 * 65536) & Entries.OFFSET_MASK;
    ByteBuffer.wrap(b).putLong((int) l2, Entries.COPIED | (1L << 44));
    try (ImageFile f = s.open("d.qcow2", true)) {
      f.writeFully(ByteBuffer.wrap(b), 0);
    }
    try (Qcow2Chain c = Qcow2Chain.open(s, "d.qcow2", false)) {
      assertThatThrownBy(() -> c.read(ByteBuffer.allocate(512), 0))
          .hasMessageContaining("L2 table 0 at 0x")
          .hasMessageContaining("entry 0: cluster 0x100000000000 past the file end");
    }
  }

  @Test
  void badInputChangesNothing() throws IOException {
    CrashingImageStore s = new CrashingImageStore();
    Qcow2.create(s, "d.qcow2", SIZE);
    byte[] before = s.bytes("d.qcow2");
    assertThatThrownBy(() -> Qcow2.resize(s, "d.qcow2", SIZE / 2))
        .hasMessageContaining("shrinking");
    assertThatThrownBy(() -> Qcow2.create(s, "x.qcow2", 0))
        .hasMessageContaining("size 0 is outside");
    assertThatThrownBy(() -> Qcow2.coalesce(s, "d.qcow2"))
        .hasMessageContaining("has no backing file");
    assertThat(s.bytes("d.qcow2")).isEqualTo(before);
    assertThat(s.list()).containsExactly("d.qcow2");
  }

  @Test
  void aChainChecksItsLinks() throws IOException {
    CrashingImageStore s = new CrashingImageStore();
    Qcow2.create(s, "a.qcow2", SIZE);
    Qcow2.snapshot(s, "b.qcow2", "a.qcow2");
    s.delete("a.qcow2");
    assertThatThrownBy(() -> Qcow2Chain.open(s, "b.qcow2", false))
        .hasMessage("qcow2 mem:b.qcow2: backing file mem:a.qcow2 not found");
    Qcow2.create(s, "a.qcow2", SIZE); // another image under the same name: another UUID
    assertThatThrownBy(() -> Qcow2Chain.open(s, "b.qcow2", false))
        .hasMessageContaining("backing UUID")
        .hasMessageContaining("does not match mem:a.qcow2");
  }

  /**
   * A reader that opened an image before another writer grew it (the collector writing into a
   * backing file that an active VDI's chain holds open) reads the tables it loads later without
   * mistaking the new clusters for damage.
   */
  @Test
  void aReaderOpenedBeforeAnotherWriterGrewTheFileReadsTheNewTables() throws IOException {
    CrashingImageStore s = new CrashingImageStore();
    Qcow2.create(s, "d.qcow2", SIZE);
    try (Qcow2Chain first = Qcow2Chain.open(s, "d.qcow2", true)) {
      first.write(ByteBuffer.wrap(new byte[] {1}), 0); // L2 table 0 exists from now on
    }
    // The reader's view stops at the file's size now; its L2 table is loaded at its first read.
    try (Qcow2Chain reader = Qcow2Chain.open(s, "d.qcow2", false)) {
      try (Qcow2Chain writer = Qcow2Chain.open(s, "d.qcow2", true)) {
        writer.write(ByteBuffer.wrap(new byte[] {7, 7, 7}), 70_000);
      }
      ByteBuffer b = ByteBuffer.allocate(3);
      reader.read(b, 70_000);
      assertThat(b.array()).containsOnly(7);
    }
  }
}
