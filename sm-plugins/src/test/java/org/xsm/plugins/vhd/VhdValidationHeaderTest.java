package org.xsm.plugins.vhd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xsm.plugins.vhd.VhdFiles.MIB;
import static org.xsm.plugins.vhd.VhdFiles.assertOpenFails;
import static org.xsm.plugins.vhd.VhdFiles.batmapHeaderOffset;
import static org.xsm.plugins.vhd.VhdFiles.editHeader;
import static org.xsm.plugins.vhd.VhdFiles.editRaw;
import static org.xsm.plugins.vhd.VhdFiles.locatorEntry;
import static org.xsm.plugins.vhd.VhdFiles.readInt;
import static org.xsm.plugins.vhd.VhdFiles.readLong;
import static org.xsm.plugins.vhd.VhdFiles.size;
import static org.xsm.plugins.vhd.VhdFiles.tableOffset;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xsm.plugins.store.LocalImageStore;

/**
 * Every check of {@link DynamicHeader#decode}, {@link Batmap} and of the dynamic part of {@link
 * VhdImage#open} (BAT size, parent fields, regions past the end or overlapping, locators naming
 * another parent). Header edits recompute the header checksum unless the checksum is the target.
 *
 * <p>Layout of the 8 MiB disks made here (engine layout, asserted in {@link #setUp}): footer copy
 * 0, header 512, BAT 1536 (4 entries, padded to 2048), batmap header 2048, map 2560, then for the
 * differencing disk three locators at 3072, 3584, 4096; the primary footer follows.
 */
class VhdValidationHeaderTest {
  @TempDir Path dir;
  LocalImageStore store;
  Path dyn;
  Path diff;
  String dynPath;
  String diffPath;

  @BeforeEach
  void setUp() throws IOException {
    store = LocalImageStore.open(dir);
    Vhd.create(store, "d.vhd", 8 * MIB, false);
    Vhd.create(store, "p.vhd", 8 * MIB, false);
    Vhd.snapshot(store, "c.vhd", "p.vhd");
    dyn = dir.resolve("d.vhd");
    diff = dir.resolve("c.vhd");
    dynPath = describe("d.vhd");
    diffPath = describe("c.vhd");
    assertThat(tableOffset(dyn)).isEqualTo(1536);
    assertThat(batmapHeaderOffset(dyn)).isEqualTo(2048);
    assertThat(size(dyn)).isEqualTo(3584);
    assertThat(readLong(diff, 512 + locatorEntry(0) + 16)).isEqualTo(3072);
    assertThat(readLong(diff, 512 + locatorEntry(2) + 16)).isEqualTo(4096);
    assertThat(size(diff)).isEqualTo(5120);
    VhdChain.open(store, "c.vhd", true).close();
    VhdImage.open(store, "d.vhd", true).close();
  }

  private String describe(String name) {
    return dir.toAbsolutePath().normalize().resolve(name).toString();
  }

  private String dynHeader() {
    return "dynamic header in " + dynPath + ": ";
  }

  private String diffHeader() {
    return "dynamic header in " + diffPath + ": ";
  }

  // ---- DynamicHeader.decode ----

  @Test
  void badCookie() throws IOException {
    editHeader(dyn, b -> b.put(7, (byte) 'f'));
    assertOpenFails(store, "d.vhd", dynHeader() + "bad cookie 'cxsparsf', expected 'cxsparse'");
  }

  @Test
  void checksumMismatch() throws IOException {
    int stored = readInt(dyn, 512 + 36);
    VhdFiles.flipByte(dyn, 512 + 900);
    int computed = VhdFiles.checksum(VhdFiles.read(dyn, 512, 1024), 36);
    assertOpenFails(
        store,
        "d.vhd",
        "dynamic header in "
            + dynPath
            + " checksum mismatch: stored 0x"
            + Integer.toHexString(stored)
            + ", computed 0x"
            + Integer.toHexString(computed));
  }

  @Test
  void dataOffsetNotAllOnes() throws IOException {
    editHeader(dyn, b -> b.putLong(8, 0));
    assertOpenFails(store, "d.vhd", dynHeader() + "data offset 0x0 must be all ones");
  }

  @Test
  void unsupportedVersion() throws IOException {
    editHeader(dyn, b -> b.putInt(24, 0x00010001));
    assertOpenFails(store, "d.vhd", dynHeader() + "unsupported header version 0x10001");
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 1024, 1535, 2049, -512})
  void tableOffsetInsideHeaderOrUnaligned(long offset) throws IOException {
    editHeader(dyn, b -> b.putLong(16, offset));
    assertOpenFails(
        store,
        "d.vhd",
        dynHeader() + "table offset " + offset + " must be sector aligned and after the header");
  }

  @ParameterizedTest
  @ValueSource(longs = {0, (1 << 24) + 1, 0xffffffffL})
  void maxTableEntriesOutOfRange(long entries) throws IOException {
    editHeader(dyn, b -> b.putInt(28, (int) entries));
    assertOpenFails(
        store, "d.vhd", dynHeader() + "max table entries " + entries + " out of range 1..16777216");
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 2048, 3 * MIB, 512 * MIB, 0x80000000L})
  void blockSizeNotAPowerOfTwoInRange(long blockSize) throws IOException {
    editHeader(dyn, b -> b.putInt(32, (int) blockSize));
    assertOpenFails(
        store,
        "d.vhd",
        dynHeader() + "block size " + blockSize + " is not a power of two in 4 KiB..256 MiB");
  }

  @ParameterizedTest
  @ValueSource(ints = {60, 63, 768, 1023})
  void reservedBytesNotZero(int offset) throws IOException {
    editHeader(dyn, b -> b.put(offset, (byte) 1));
    assertOpenFails(store, "d.vhd", dynHeader() + "reserved header bytes are not zero");
  }

  @Test
  void locatorWithUnknownPlatformCode() throws IOException {
    editHeader(diff, b -> b.putInt(locatorEntry(1), 0x41424344));
    assertOpenFails(
        store, "c.vhd", diffHeader() + "parent locator 1 has unknown platform code 'ABCD'");
  }

  @Test
  void locatorDataUnaligned() throws IOException {
    editHeader(diff, b -> b.putLong(locatorEntry(0) + 16, 3073));
    assertOpenFails(
        store,
        "c.vhd",
        diffHeader() + "parent locator 0 (MACX) is invalid: offset 3073, length 14, space 512");
  }

  @Test
  void locatorDataInsideHeader() throws IOException {
    editHeader(diff, b -> b.putLong(locatorEntry(1) + 16, 1024));
    assertOpenFails(
        store,
        "c.vhd",
        diffHeader() + "parent locator 1 (W2ku) is invalid: offset 1024, length 14, space 512");
  }

  @Test
  void locatorDataLongerThanItsSpace() throws IOException {
    // A space below 512 counts in sectors (spec), so 1 means 512 bytes: 513 does not fit.
    editHeader(diff, b -> b.putInt(locatorEntry(2) + 4, 1).putInt(locatorEntry(2) + 8, 513));
    assertOpenFails(
        store,
        "c.vhd",
        diffHeader() + "parent locator 2 (W2ru) is invalid: offset 4096, length 513, space 512");
  }

  @ParameterizedTest
  @ValueSource(ints = {4, 8, 16})
  void unusedLocatorNotZero(int field) throws IOException {
    editHeader(dyn, b -> b.putInt(locatorEntry(5) + field, 512));
    assertOpenFails(store, "d.vhd", dynHeader() + "unused parent locator 5 is not zero");
  }

  @Test
  void reservedFieldOfUsedLocatorNotZero() throws IOException {
    editHeader(diff, b -> b.putInt(locatorEntry(1) + 12, 7));
    assertOpenFails(
        store, "c.vhd", diffHeader() + "reserved field of parent locator 1 is not zero");
  }

  @Test
  void reservedFieldOfUnusedLocatorNotZero() throws IOException {
    editHeader(dyn, b -> b.putInt(locatorEntry(7) + 12, 7));
    assertOpenFails(store, "d.vhd", dynHeader() + "reserved field of parent locator 7 is not zero");
  }

  // ---- VhdImage.loadDynamic ----

  @Test
  void tooFewTableEntriesForTheSize() throws IOException {
    editHeader(dyn, b -> b.putInt(28, 3));
    assertOpenFails(
        store,
        "d.vhd",
        dynPath + ": 3 BAT entries of 2097152 bytes cannot hold the virtual size 8388608");
  }

  @Test
  void differencingDiskWithoutParentUuid() throws IOException {
    editHeader(diff, b -> b.putLong(40, 0).putLong(48, 0));
    assertOpenFails(
        store, "c.vhd", diffPath + ": differencing disk without parent UUID or parent name");
  }

  @Test
  void differencingDiskWithoutParentName() throws IOException {
    editHeader(diff, b -> b.put(64, new byte[512]));
    assertOpenFails(
        store, "c.vhd", diffPath + ": differencing disk without parent UUID or parent name");
  }

  @Test
  void dynamicDiskWithParentUuid() throws IOException {
    editHeader(dyn, b -> b.putLong(48, 1));
    assertOpenFails(store, "d.vhd", dynPath + ": dynamic disk has parent fields set");
  }

  @Test
  void dynamicDiskWithParentName() throws IOException {
    editHeader(dyn, b -> b.put(64, "p.vhd".getBytes(StandardCharsets.UTF_16BE)));
    assertOpenFails(store, "d.vhd", dynPath + ": dynamic disk has parent fields set");
  }

  @Test
  void dynamicDiskWithParentLocator() throws IOException {
    int e = locatorEntry(0);
    editHeader(
        dyn,
        b ->
            b.putInt(e, ParentLocator.MACX)
                .putInt(e + 4, 512)
                .putInt(e + 8, 0)
                .putLong(e + 16, 2560));
    assertOpenFails(store, "d.vhd", dynPath + ": dynamic disk has parent fields set");
  }

  @Test
  void tablePastTheEnd() throws IOException {
    editHeader(dyn, b -> b.putLong(16, MIB));
    assertOpenFails(store, "d.vhd", dynPath + ": BAT at 1048576 runs past the end of the file");
  }

  @Test
  void batmapHeaderPastTheEnd() throws IOException {
    // The BAT (16 bytes) still fits before the footer at 3072; its batmap header would not.
    editHeader(dyn, b -> b.putLong(16, 2560));
    assertOpenFails(store, "d.vhd", dynPath + ": batmap header runs past the end");
  }

  @Test
  void batmapBadCookie() throws IOException {
    editRaw(dyn, 2048, 512, b -> b.put(0, (byte) 'X'));
    assertOpenFails(
        store, "d.vhd", dynPath + ": batmap header cookie is not 'tdbatmap' (creator tap 1.2+");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 0x00010000, 0x00010003, 0x00020002})
  void batmapUnsupportedVersion(int version) throws IOException {
    editRaw(dyn, 2048, 512, b -> b.putInt(20, version));
    assertOpenFails(
        store, "d.vhd", dynPath + ": unsupported batmap version 0x" + Integer.toHexString(version));
  }

  @Test
  void batmapVersionOnePointOneIsAccepted() throws IOException {
    editRaw(dyn, 2048, 512, b -> b.putInt(20, 0x00010001));
    VhdImage.open(store, "d.vhd", false).close();
  }

  @Test
  void batmapMapUnaligned() throws IOException {
    editRaw(dyn, 2048, 512, b -> b.putLong(8, 2561));
    assertOpenFails(store, "d.vhd", dynPath + ": batmap at 2561 of 1 sectors is invalid");
  }

  @Test
  void batmapMapInsideHeader() throws IOException {
    editRaw(dyn, 2048, 512, b -> b.putLong(8, 1024));
    assertOpenFails(store, "d.vhd", dynPath + ": batmap at 1024 of 1 sectors is invalid");
  }

  @Test
  void batmapTooSmallForTheTable() throws IOException {
    editRaw(dyn, 2048, 512, b -> b.putInt(16, 0));
    assertOpenFails(store, "d.vhd", dynPath + ": batmap at 2560 of 0 sectors is invalid");
  }

  @Test
  void batmapImplausiblyLarge() throws IOException {
    editRaw(dyn, 2048, 512, b -> b.putInt(16, 65537));
    assertOpenFails(store, "d.vhd", dynPath + ": batmap at 2560 of 65537 sectors is invalid");
  }

  @Test
  void batmapPastTheEnd() throws IOException {
    editRaw(dyn, 2048, 512, b -> b.putLong(8, 3072));
    assertOpenFails(store, "d.vhd", dynPath + ": batmap runs past the end of the file");
  }

  @Test
  void batmapChecksumMismatch() throws IOException {
    editRaw(dyn, 2560, 512, b -> b.put(0, (byte) 0xff));
    assertOpenFails(
        store,
        "d.vhd",
        dynPath + ": batmap checksum mismatch: stored 0xffffffff, computed 0xffffff00");
  }

  // ---- VhdImage.checkRegions ----

  @Test
  void blockPastTheEnd() throws IOException {
    VhdFiles.writeInt(dyn, 1536, 3072 / 512);
    assertOpenFails(
        store,
        "d.vhd",
        dynPath + ": block 0 at byte 3072 runs past the end of the data at byte 3072");
  }

  @Test
  void locatorPastTheEnd() throws IOException {
    editHeader(diff, b -> b.putLong(locatorEntry(2) + 16, 4608));
    assertOpenFails(
        store,
        "c.vhd",
        diffPath + ": parent locator 2 at byte 4608 runs past the end of the data at byte 4608");
  }

  @Test
  void twoBlocksAtTheSamePlace() throws IOException {
    VhdFiles.writeDisk(store, "d.vhd", 0, VhdFiles.pattern(512, 1));
    VhdFiles.writeDisk(store, "d.vhd", 2 * MIB, VhdFiles.pattern(512, 2));
    int first = readInt(dyn, 1536);
    VhdFiles.writeInt(dyn, 1536 + 4, first);
    long at = first * 512L;
    assertOpenFails(
        store, "d.vhd", dynPath + ": block 1 at byte " + at + " overlaps block 0 at byte " + at);
  }

  @Test
  void blockOverTheTable() throws IOException {
    VhdFiles.writeDisk(store, "d.vhd", 0, VhdFiles.pattern(512, 1));
    VhdFiles.writeDisk(store, "d.vhd", 2 * MIB, VhdFiles.pattern(512, 2));
    VhdFiles.writeInt(dyn, 1536 + 4, 1536 / 512);
    assertOpenFails(store, "d.vhd", dynPath + ": block 1 at byte 1536 overlaps BAT at byte 1536");
  }

  @Test
  void locatorOverTheBatmap() throws IOException {
    editHeader(diff, b -> b.putLong(locatorEntry(0) + 16, 2560));
    assertOpenFails(
        store, "c.vhd", diffPath + ": parent locator 0 at byte 2560 overlaps batmap at byte 2560");
  }

  // ---- VhdImage.validateLocators ----

  @Test
  void macLocatorNamesAnotherParent() throws IOException {
    VhdFiles.write(diff, 3072, "file://./q.vhd".getBytes(StandardCharsets.UTF_8));
    assertOpenFails(
        store,
        "c.vhd",
        diffPath + ": parent locator 0 (MACX) names 'q.vhd' but the parent name is 'p.vhd'");
  }

  @Test
  void windowsLocatorNamesAnotherParent() throws IOException {
    VhdFiles.write(diff, 4096, ".\\q.vhd".getBytes(StandardCharsets.UTF_16LE));
    assertOpenFails(
        store,
        "c.vhd",
        diffPath + ": parent locator 2 (W2ru) names 'q.vhd' but the parent name is 'p.vhd'");
  }

  @Test
  void locatorDataIsReadAsTheRecordedLengthOnly() throws IOException {
    // Bytes past data_len are slack; a different name there is no mismatch.
    int len = readInt(diff, 512 + locatorEntry(0) + 8);
    VhdFiles.write(diff, 3072 + len, "zzz".getBytes(StandardCharsets.UTF_8));
    assertThat(len).isEqualTo("file://./p.vhd".length());
    VhdChain.open(store, "c.vhd", false).close();
  }
}
