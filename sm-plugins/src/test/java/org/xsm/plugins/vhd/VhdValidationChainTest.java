package org.xsm.plugins.vhd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xsm.plugins.vhd.VhdFiles.MIB;
import static org.xsm.plugins.vhd.VhdFiles.assertChainOpenFails;
import static org.xsm.plugins.vhd.VhdFiles.assertOpenFails;
import static org.xsm.plugins.vhd.VhdFiles.batmapHeaderOffset;
import static org.xsm.plugins.vhd.VhdFiles.editBothFooters;
import static org.xsm.plugins.vhd.VhdFiles.flipByte;
import static org.xsm.plugins.vhd.VhdFiles.pattern;
import static org.xsm.plugins.vhd.VhdFiles.readDisk;
import static org.xsm.plugins.vhd.VhdFiles.readLong;
import static org.xsm.plugins.vhd.VhdFiles.size;
import static org.xsm.plugins.vhd.VhdFiles.state;
import static org.xsm.plugins.vhd.VhdFiles.writeDisk;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.LocalImageStore;

/**
 * The checks of {@link VhdChain#open} and {@link UndoJournal#recover}, the recovery of a damaged
 * primary footer from the copy at offset 0, and {@link Vhd#check}'s checks beyond open.
 */
class VhdValidationChainTest {
  @TempDir Path dir;
  LocalImageStore store;

  @BeforeEach
  void setUp() throws IOException {
    store = LocalImageStore.open(dir);
  }

  private String describe(String name) {
    return dir.toAbsolutePath().normalize().resolve(name).toString();
  }

  private UUID footerUuid(String name) throws IOException {
    try (VhdImage img = VhdImage.open(store, name, false)) {
      return img.footer().uuid();
    }
  }

  /** Data at the start of block 0 and across the block 1/2 boundary: three allocated blocks. */
  private byte[] diskWithData(String name) throws IOException {
    Vhd.create(store, name, 8 * MIB, false);
    writeDisk(store, name, 0, pattern(4096, 1));
    writeDisk(store, name, 4 * MIB - 1000, pattern(3000, 2));
    byte[] whole = new byte[(int) (8 * MIB)];
    System.arraycopy(pattern(4096, 1), 0, whole, 0, 4096);
    System.arraycopy(pattern(3000, 2), 0, whole, (int) (4 * MIB - 1000), 3000);
    assertThat(readDisk(store, name, 0, whole.length)).isEqualTo(whole);
    return whole;
  }

  // ---- VhdChain.open ----

  @Test
  void parentMissing() throws IOException {
    Vhd.create(store, "p.vhd", 8 * MIB, false);
    Vhd.snapshot(store, "c.vhd", "p.vhd");
    Files.delete(dir.resolve("p.vhd"));
    assertChainOpenFails(
        store, "c.vhd", describe("c.vhd") + ": parent " + describe("p.vhd") + " not found");
  }

  @Test
  void parentUuidMismatch() throws IOException {
    Vhd.create(store, "p.vhd", 8 * MIB, false);
    UUID recorded = footerUuid("p.vhd");
    Vhd.snapshot(store, "c.vhd", "p.vhd");
    Files.delete(dir.resolve("p.vhd"));
    Vhd.create(store, "p.vhd", 8 * MIB, false);
    UUID actual = footerUuid("p.vhd");
    assertChainOpenFails(
        store,
        "c.vhd",
        describe("c.vhd")
            + ": parent UUID "
            + recorded
            + " does not match "
            + describe("p.vhd")
            + " (UUID "
            + actual
            + ")");
  }

  @Test
  void cycle() throws IOException {
    Vhd.create(store, "x.vhd", 8 * MIB, false);
    Vhd.snapshot(store, "a.vhd", "x.vhd");
    Vhd.snapshot(store, "b.vhd", "a.vhd");
    Vhd.setParent(store, "a.vhd", "b.vhd");
    assertChainOpenFails(
        store, "b.vhd", "VHD chain of " + describe("b.vhd") + " has a cycle at b.vhd");
    assertChainOpenFails(
        store, "a.vhd", "VHD chain of " + describe("a.vhd") + " has a cycle at a.vhd");
  }

  @Test
  void chainDeeperThanTheLimit() throws IOException {
    Vhd.create(store, "l0.vhd", 2 * MIB, false);
    VhdImage prev = VhdImage.open(store, "l0.vhd", false);
    int files = VhdChain.MAX_DEPTH;
    for (int i = 1; i < files; i++) {
      VhdImage next = VhdCreator.createDifferencing(store, "l" + i + ".vhd", prev, 0);
      prev.close();
      prev = next;
    }
    prev.close();
    String leaf = "l" + (files - 1) + ".vhd";
    try (VhdChain c = VhdChain.open(store, leaf, false)) {
      assertThat(c.depth()).isEqualTo(VhdChain.MAX_DEPTH);
    }
    try (VhdImage p = VhdImage.open(store, leaf, false)) {
      VhdCreator.createDifferencing(store, "top.vhd", p, 0).close();
    }
    assertChainOpenFails(
        store, "top.vhd", "VHD chain of " + describe("top.vhd") + " is deeper than 256");
  }

  // ---- UndoJournal.recover ----

  @Test
  void interruptedUpdateIsRolledBackByAnyOpen() throws IOException {
    byte[] whole = diskWithData("d.vhd");
    Path d = dir.resolve("d.vhd");
    byte[] original = Files.readAllBytes(d);
    long size = size(d);
    try (ImageFile f = store.open("d.vhd", true)) {
      UndoJournal.begin(
          store,
          f,
          List.of(new UndoJournal.Extent(0, 512), new UndoJournal.Extent(size - 512, 512)));
    }
    // Half of a hidden-flag update: the copy at 0 is rewritten, then the crash.
    VhdFiles.editBackupFooter(d, b -> b.put(85, (byte) 1));
    // Even a read-only open rolls the update back first: every reader sees the old state.
    try (VhdImage img = VhdImage.open(store, "d.vhd", false)) {
      assertThat(img.footer().hidden()).isFalse();
    }
    assertThat(Files.readAllBytes(d)).isEqualTo(original);
    assertThat(dir.resolve("d.vhd.undo")).doesNotExist();
    VhdImage.open(store, "d.vhd", true).close();
    assertThat(Files.readAllBytes(d)).isEqualTo(original);
    assertThat(dir.resolve("d.vhd.undo")).doesNotExist();
    assertThat(readDisk(store, "d.vhd", 0, whole.length)).isEqualTo(whole);
  }

  @Test
  void incompleteJournalIsIgnoredAndRemovedByAnyOpen() throws IOException {
    Vhd.create(store, "d.vhd", 8 * MIB, false);
    byte[] original = Files.readAllBytes(dir.resolve("d.vhd"));
    Files.write(dir.resolve("d.vhd.undo"), pattern(100, 3));
    VhdImage.open(store, "d.vhd", false).close();
    assertThat(dir.resolve("d.vhd.undo")).doesNotExist();
    assertThat(Files.readAllBytes(dir.resolve("d.vhd"))).isEqualTo(original);
  }

  @Test
  void journalTooLarge() throws IOException {
    Vhd.create(store, "d.vhd", 8 * MIB, false);
    try (RandomAccessFile j = new RandomAccessFile(dir.resolve("d.vhd.undo").toFile(), "rw")) {
      j.setLength(Integer.MAX_VALUE + 1L); // sparse: no disk space used
    }
    assertOpenFails(store, "d.vhd", "undo journal " + describe("d.vhd.undo") + " is too large");
  }

  // ---- primary footer recovery ----

  @Test
  void damagedPrimaryFooterIsReadFromTheCopyWithoutWritingWhenReadOnly() throws IOException {
    byte[] whole = diskWithData("d.vhd");
    Path d = dir.resolve("d.vhd");
    flipByte(d, size(d) - 512 + 40);
    Map<String, String> before = state(dir);
    try (VhdChain c = VhdChain.open(store, "d.vhd", false)) {
      assertThat(c.leaf().wasRecovered()).isTrue();
      assertThat(c.leaf().physicalSizeBytes()).isEqualTo(size(d));
      byte[] got = new byte[whole.length];
      c.read(ByteBuffer.wrap(got), 0);
      assertThat(got).isEqualTo(whole);
    }
    assertThat(state(dir)).isEqualTo(before);
  }

  @Test
  void damagedPrimaryFooterIsRepairedByAWritableOpen() throws IOException {
    byte[] whole = diskWithData("d.vhd");
    Path d = dir.resolve("d.vhd");
    byte[] original = Files.readAllBytes(d);
    flipByte(d, size(d) - 512 + 40);
    try (VhdImage img = VhdImage.open(store, "d.vhd", true)) {
      assertThat(img.wasRecovered()).isTrue();
    }
    assertThat(Files.readAllBytes(d)).isEqualTo(original);
    try (VhdImage img = VhdImage.open(store, "d.vhd", false)) {
      assertThat(img.wasRecovered()).isFalse();
    }
    assertThat(readDisk(store, "d.vhd", 0, whole.length)).isEqualTo(whole);
    assertThat(Vhd.check(store, "d.vhd", false)).isEmpty();
  }

  @Test
  void footerOverwrittenByUnflushedBlocksIsRepairedAndTruncated() throws IOException {
    byte[] whole = diskWithData("d.vhd");
    Path d = dir.resolve("d.vhd");
    byte[] original = Files.readAllBytes(d);
    long size = size(d);
    // A crash after a new block's data went where the footer was (and past it), before the flush
    // that writes its BAT entry and the moved footer.
    VhdFiles.write(d, size - 512, pattern((int) (2 * MIB + 4096), 7));
    assertThat(size(d)).isGreaterThan(size);

    Map<String, String> before = state(dir);
    try (VhdImage img = VhdImage.open(store, "d.vhd", false)) {
      assertThat(img.wasRecovered()).isTrue();
    }
    assertThat(readDisk(store, "d.vhd", 0, whole.length)).isEqualTo(whole);
    assertThat(state(dir)).isEqualTo(before);

    try (VhdImage img = VhdImage.open(store, "d.vhd", true)) {
      assertThat(img.wasRecovered()).isTrue();
    }
    assertThat(size(d)).isEqualTo(size);
    assertThat(Files.readAllBytes(d)).isEqualTo(original);
    try (VhdImage img = VhdImage.open(store, "d.vhd", false)) {
      assertThat(img.wasRecovered()).isFalse();
    }
    assertThat(readDisk(store, "d.vhd", 0, whole.length)).isEqualTo(whole);
  }

  @Test
  void writableOpenThatFailsAfterRecoveryChangesNothing() throws IOException {
    Vhd.create(store, "p.vhd", 8 * MIB, false);
    Vhd.snapshot(store, "c.vhd", "p.vhd");
    Path c = dir.resolve("c.vhd");
    flipByte(c, size(c) - 512 + 40);
    // Locator 0 (MACX) data starts at 3072 in an engine-made 8 MiB differencing disk.
    assertThat(readLong(c, 512 + VhdFiles.locatorEntry(0) + 16)).isEqualTo(3072);
    VhdFiles.write(c, 3072, "file://./q.vhd".getBytes(StandardCharsets.UTF_8));
    assertOpenFails(
        store,
        "c.vhd",
        describe("c.vhd") + ": parent locator 0 (MACX) names 'q.vhd' but the parent name");
  }

  // ---- Vhd.check ----

  @Test
  void checkFindsBatmapBitForAPartlyFilledBlock() throws IOException {
    Vhd.create(store, "d.vhd", 8 * MIB, false);
    writeDisk(store, "d.vhd", 0, pattern(4096, 1));
    writeDisk(store, "d.vhd", 2 * MIB, pattern((int) (2 * MIB), 2)); // block 1: full
    assertThat(Vhd.check(store, "d.vhd", false)).isEmpty();
    Path d = dir.resolve("d.vhd");
    long header = batmapHeaderOffset(d);
    long map = readLong(d, header + 8);
    assertThat(VhdFiles.read(d, map, 1)[0]).as("batmap: block 1 full").isEqualTo((byte) 0x40);
    VhdFiles.write(d, map, new byte[] {(byte) 0xc0}); // block 0 claimed full as well
    VhdFiles.writeInt(d, header + 24, ~(0xc0));
    VhdImage.open(store, "d.vhd", false).close(); // the batmap itself is consistent

    assertThat(Vhd.check(store, "d.vhd", false))
        .containsExactly(
            "VHD "
                + describe("d.vhd")
                + ": batmap marks block 0 full but its sector bitmap is not");
  }

  @Test
  void checkFindsBlockInUsePastTheVirtualSize() throws IOException {
    Vhd.create(store, "d.vhd", 8 * MIB, false);
    writeDisk(store, "d.vhd", 7 * MIB, pattern(512, 1)); // block 3
    assertThat(Vhd.check(store, "d.vhd", false)).isEmpty();
    // Shrink the footer to 6 MiB (geometry 4/4/17 fits), leaving block 3 mapped past the end.
    editBothFooters(
        dir.resolve("d.vhd"),
        b -> b.putLong(48, 6 * MIB).putShort(56, (short) 4).put(58, (byte) 4).put(59, (byte) 17));
    assertThat(Vhd.check(store, "d.vhd", false))
        .containsExactly(
            "VHD " + describe("d.vhd") + ": BAT entry 3 is in use past the virtual size");
  }

  @Test
  void checkReportsWhatOpenRejects() throws IOException {
    Vhd.create(store, "d.vhd", 8 * MIB, false);
    VhdFiles.flipByte(dir.resolve("d.vhd"), 512 + 900);
    assertThat(Vhd.check(store, "d.vhd", false))
        .singleElement()
        .asString()
        .contains("dynamic header in " + describe("d.vhd") + " checksum mismatch");
  }
}
