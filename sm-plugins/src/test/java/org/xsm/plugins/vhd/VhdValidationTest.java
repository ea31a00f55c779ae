package org.xsm.plugins.vhd;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.xsm.plugins.vhd.VhdFiles.MIB;
import static org.xsm.plugins.vhd.VhdFiles.assertOpenFails;
import static org.xsm.plugins.vhd.VhdFiles.editBackupFooter;
import static org.xsm.plugins.vhd.VhdFiles.editBothFooters;
import static org.xsm.plugins.vhd.VhdFiles.editPrimaryFooter;
import static org.xsm.plugins.vhd.VhdFiles.flipByte;
import static org.xsm.plugins.vhd.VhdFiles.read;
import static org.xsm.plugins.vhd.VhdFiles.size;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xsm.plugins.store.LocalImageStore;

/**
 * Every check of {@link VhdFooter#decode} and the footer-level checks of {@link VhdImage#open}:
 * each test corrupts one field of a file the engine made and expects a failed open that names the
 * file and the check, and leaves the file as it was (read-only and read-write).
 *
 * <p>Footer field checks are driven through both copies of a dynamic disk (a damaged primary footer
 * alone is recovered from the copy at offset 0) or through the single footer of a fixed disk, where
 * offset 0 is data and cannot stand in.
 */
class VhdValidationTest {
  @TempDir Path dir;
  LocalImageStore store;
  Path dyn;
  Path fixed;
  String dynPath;
  String fixedPath;

  @BeforeEach
  void setUp() throws IOException {
    store = LocalImageStore.open(dir);
    Vhd.create(store, "d.vhd", 8 * MIB, false);
    Vhd.create(store, "f.vhd", 4 * MIB, true);
    dyn = dir.resolve("d.vhd");
    fixed = dir.resolve("f.vhd");
    dynPath = dir.toAbsolutePath().normalize().resolve("d.vhd").toString();
    fixedPath = dir.toAbsolutePath().normalize().resolve("f.vhd").toString();
    // The files as made open cleanly: every failure below is the corruption's doing.
    VhdImage.open(store, "d.vhd", false).close();
    VhdImage.open(store, "f.vhd", false).close();
  }

  // ---- VhdFooter.decode ----

  @Test
  void badCookie() throws IOException {
    editPrimaryFooter(fixed, b -> b.put(7, (byte) 'y'));
    assertOpenFails(
        store, "f.vhd", "footer in " + fixedPath + ": bad cookie 'conectiy', expected 'conectix'");
  }

  @Test
  void badCookieShowsUnprintableBytesAsQuestionMarks() throws IOException {
    editPrimaryFooter(fixed, b -> b.put(0, (byte) 0).put(1, (byte) 0xff));
    assertOpenFails(store, "f.vhd", "footer in " + fixedPath + ": bad cookie '??nectix'");
  }

  @Test
  void checksumMismatch() throws IOException {
    long at = size(fixed) - 512;
    int stored = ByteBuffer.wrap(read(fixed, at, 512)).getInt(64);
    flipByte(fixed, at + 24); // timestamp
    int computed = VhdFiles.checksum(read(fixed, at, 512), 64);
    assertThat(computed).isNotEqualTo(stored);
    assertOpenFails(
        store,
        "f.vhd",
        "footer in "
            + fixedPath
            + " checksum mismatch: stored 0x"
            + Integer.toHexString(stored)
            + ", computed 0x"
            + Integer.toHexString(computed));
  }

  @Test
  void featuresWithoutReservedBit() throws IOException {
    editBothFooters(dyn, b -> b.putInt(8, 0x1));
    assertOpenFails(
        store, "d.vhd", "footer in " + dynPath + ": features 0x1 lack the reserved bit 0x2");
  }

  @Test
  void unsupportedFormatVersion() throws IOException {
    editBothFooters(dyn, b -> b.putInt(12, 0x00020000));
    assertOpenFails(
        store, "d.vhd", "footer in " + dynPath + ": unsupported file format version 0x20000");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 5, -1})
  void unsupportedDiskType(int code) throws IOException {
    editBothFooters(dyn, b -> b.putInt(60, code));
    assertOpenFails(store, "d.vhd", "footer in " + dynPath + ": unsupported disk type " + code);
  }

  @Test
  void fixedDiskWithDataOffset() throws IOException {
    editPrimaryFooter(fixed, b -> b.putLong(16, 512));
    assertOpenFails(
        store,
        "f.vhd",
        "footer in "
            + fixedPath
            + ": fixed disk has data offset 0x200, expected 0xffffffffffffffff");
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 1024, -1})
  void dynamicDiskWithHeaderElsewhere(long offset) throws IOException {
    editBothFooters(dyn, b -> b.putLong(16, offset));
    assertOpenFails(
        store,
        "d.vhd",
        "footer in " + dynPath + ": dynamic header offset " + offset + " is not supported");
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -512, 8 * MIB + 1, 8 * MIB - 100, VhdFooter.MAX_SIZE_BYTES + 2 * MIB})
  void currentSizeOutOfRange(long current) throws IOException {
    editBothFooters(dyn, b -> b.putLong(48, current));
    assertOpenFails(
        store,
        "d.vhd",
        "footer in "
            + dynPath
            + ": current size "
            + current
            + " is not a multiple of 512 in 512..");
  }

  @Test
  void geometryWithZeroCylinders() throws IOException {
    editBothFooters(dyn, b -> b.putShort(56, (short) 0));
    assertOpenFails(store, "d.vhd", "footer in " + dynPath + ": invalid geometry");
  }

  @Test
  void geometryWithZeroSectorsPerTrack() throws IOException {
    editBothFooters(dyn, b -> b.put(59, (byte) 0));
    assertOpenFails(store, "d.vhd", "footer in " + dynPath + ": invalid geometry");
  }

  @Test
  void geometryWithMoreThanSixteenHeads() throws IOException {
    // 17 heads with few cylinders, so the total stays below the size: only the head count is bad.
    editBothFooters(dyn, b -> b.putShort(56, (short) 1).put(58, (byte) 17).put(59, (byte) 17));
    assertOpenFails(store, "d.vhd", "footer in " + dynPath + ": invalid geometry");
  }

  @Test
  void geometryLargerThanCurrentSizeIsAdvisoryWhereTheCurrentSizeRules() throws IOException {
    // Xen Orchestra's vhd-lib rounds the cylinders up; for creators whose size is the current
    // size ("tap", "xo  ") the geometry is advisory.
    editBothFooters(dyn, b -> b.putShort(56, (short) 2000).put(28, "xo  ".getBytes(US_ASCII)));
    try (VhdImage img = VhdImage.open(store, "d.vhd", false)) {
      assertThat(img.virtualSizeBytes()).isEqualTo(8 * MIB);
    }
  }

  @Test
  void geometryLargerThanCurrentSize() throws IOException {
    // A creator whose size is what the geometry addresses ("vpc "): the geometry must fit.
    editBothFooters(dyn, b -> b.putShort(56, (short) 2000).put(28, "vpc ".getBytes(US_ASCII)));
    assertOpenFails(
        store,
        "d.vhd",
        "footer in " + dynPath + ": geometry",
        "bytes, more than the current size " + 8 * MIB);
  }

  @Test
  void nilUuid() throws IOException {
    editBothFooters(dyn, b -> b.putLong(68, 0).putLong(76, 0));
    assertOpenFails(store, "d.vhd", "footer in " + dynPath + ": UUID is all zero");
  }

  @Test
  void savedStateNotBoolean() throws IOException {
    editBothFooters(dyn, b -> b.put(84, (byte) 2));
    assertOpenFails(
        store, "d.vhd", "footer in " + dynPath + ": saved-state 2 / hidden 0 must be 0 or 1");
  }

  @Test
  void hiddenNotBoolean() throws IOException {
    editBothFooters(dyn, b -> b.put(85, (byte) 0x80));
    assertOpenFails(
        store, "d.vhd", "footer in " + dynPath + ": saved-state 0 / hidden 128 must be 0 or 1");
  }

  @ParameterizedTest
  @ValueSource(ints = {86, 300, 511})
  void reservedBytesNotZero(int offset) throws IOException {
    editBothFooters(dyn, b -> b.put(offset, (byte) 1));
    assertOpenFails(
        store, "d.vhd", "footer in " + dynPath + ": reserved bytes 86..511 are not zero");
  }

  // ---- VhdImage.load: the file as a whole ----

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 511})
  void fileTooSmallForAFooter(int length) throws IOException {
    Files.write(dir.resolve("tiny.vhd"), new byte[length]);
    String path = dir.toAbsolutePath().normalize().resolve("tiny.vhd").toString();
    assertOpenFails(
        store, "tiny.vhd", path + " is " + length + " bytes long, too small to hold a footer");
  }

  @Test
  void fixedDiskWithMoreDataThanItsSize() throws IOException {
    // Move the footer one sector further: the file now holds 512 bytes more than the size.
    long at = size(fixed) - 512;
    byte[] footer = read(fixed, at, 512);
    VhdFiles.write(fixed, at, new byte[512]);
    VhdFiles.write(fixed, at + 512, footer);
    assertOpenFails(
        store,
        "f.vhd",
        fixedPath
            + ": fixed disk of "
            + 4 * MIB
            + " bytes has "
            + (4 * MIB + 512)
            + " bytes of data before its footer");
  }

  @Test
  void fixedDiskWithLessDataThanItsSize() throws IOException {
    long at = size(fixed) - 512;
    byte[] footer = read(fixed, at, 512);
    VhdFiles.write(fixed, at - 512, footer);
    VhdFiles.truncate(fixed, at);
    assertOpenFails(
        store,
        "f.vhd",
        fixedPath
            + ": fixed disk of "
            + 4 * MIB
            + " bytes has "
            + (4 * MIB - 512)
            + " bytes of data before its footer");
  }

  @Test
  void backupFooterDamagedWhilePrimaryIsValid() throws IOException {
    flipByte(dyn, 30);
    assertOpenFails(
        store, "d.vhd", "backup footer (offset 0) in " + dynPath + " checksum mismatch");
  }

  @Test
  void backupFooterWithBadFieldWhilePrimaryIsValid() throws IOException {
    editBackupFooter(dyn, b -> b.putInt(12, 0x00010001));
    assertOpenFails(
        store,
        "d.vhd",
        "backup footer (offset 0) in " + dynPath + ": unsupported file format version 0x10001");
  }

  @Test
  void footerAndBackupDiffer() throws IOException {
    editBackupFooter(dyn, b -> b.put(85, (byte) 1));
    assertOpenFails(store, "d.vhd", dynPath + ": footer and its backup copy at offset 0 differ");
  }

  @Test
  void bothFooterCopiesDamagedReportsThePrimary() throws IOException {
    flipByte(dyn, size(dyn) - 512 + 30);
    editBackupFooter(dyn, b -> b.put(0, (byte) 'X'));
    assertOpenFails(store, "d.vhd", "VHD footer in " + dynPath + " checksum mismatch");
  }

  @Test
  void damagedPrimaryIsNotRecoveredFromACopyThatSaysFixed() throws IOException {
    // The copy at offset 0 is a valid footer, but of a fixed disk: it cannot describe this file.
    editBackupFooter(dyn, b -> b.putInt(60, 2).putLong(16, -1L));
    flipByte(dyn, size(dyn) - 512 + 30);
    assertOpenFails(store, "d.vhd", "VHD footer in " + dynPath + " checksum mismatch");
  }
}
