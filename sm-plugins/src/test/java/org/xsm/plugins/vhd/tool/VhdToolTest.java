package org.xsm.plugins.vhd.tool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code xsm vhd} in-process: every command, vhd-util's output formats, and bad input, which must
 * exit non-zero with one line on stderr and leave the directory byte for byte as it was.
 */
class VhdToolTest {
  private static final long MIB = 1024 * 1024;

  @TempDir Path dir;
  String disk;

  record Result(int rc, byte[] stdout, String err) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }
  }

  @BeforeEach
  void setUp() throws IOException {
    disk = file("d.vhd");
    ok("create", "-n", disk, "-s", "8");
  }

  private String file(String name) {
    return dir.resolve(name).toString();
  }

  private Result run(byte[] stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      rc = new VhdTool(o, e, new ByteArrayInputStream(stdin)).run(args);
    }
    return new Result(rc, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  private Result run(String... args) {
    return run(new byte[0], args);
  }

  /** Runs a command that must succeed silently on stderr; returns its stdout. */
  private String ok(String... args) {
    Result r = run(args);
    assertThat(r.err()).as("stderr of %s", String.join(" ", args)).isEmpty();
    assertThat(r.rc()).as("exit status of %s", String.join(" ", args)).isZero();
    return r.out();
  }

  private byte[] read(String file, long sector, long count) {
    Result r = run("read", "-n", file, "-r", Long.toString(sector), "-c", Long.toString(count));
    assertThat(r.err()).isEmpty();
    assertThat(r.rc()).isZero();
    return r.stdout();
  }

  private void write(String file, long offset, byte[] data) throws IOException {
    Path in = Files.createTempFile("input", ".bin");
    try {
      Files.write(in, data);
      ok("write", "-n", file, "-o", Long.toString(offset), "-i", in.toString());
    } finally {
      Files.delete(in);
    }
  }

  private static byte[] pattern(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (1 + (i * 13 + seed * 29) % 253);
    }
    return b;
  }

  /** Every regular file under the directory, by relative path, with size and SHA-256. */
  private Map<String, String> state() throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        byte[] b = Files.readAllBytes(p);
        m.put(dir.relativize(p).toString(), b.length + " " + sha256(b));
      }
    }
    return m;
  }

  private static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Runs bad input: it must exit {@code rc}, print nothing on stdout and exactly one line on stderr
   * ("vhd CMD: ..." containing {@code phrase}), and change nothing in the directory.
   */
  private void assertRejected(int rc, String phrase, String... args) throws IOException {
    Map<String, String> before = state();
    Result r = run(args);
    assertThat(r.rc()).as("exit status; stderr: %s", r.err()).isEqualTo(rc);
    assertThat(r.out()).as("stdout").isEmpty();
    assertThat(r.err()).as("stderr").endsWith("\n").contains(phrase);
    assertThat(r.err().lines()).as("stderr lines").hasSize(1);
    assertThat(r.err()).startsWith("vhd " + args[0] + ": ");
    assertThat(state()).as("directory after the command").isEqualTo(before);
  }

  // ---- create / query ----

  @Test
  void queryReportsInVhdUtilFormats() throws IOException {
    assertThat(ok("query", "-n", disk, "-v")).isEqualTo("8\n");
    assertThat(ok("query", "-n", disk, "-s")).isEqualTo(Files.size(Path.of(disk)) + "\n");
    assertThat(ok("query", "-n", disk, "-p")).isEqualTo(disk + " has no parent\n");
    assertThat(ok("query", "-n", disk, "-f")).isEqualTo("hidden: 0\n");
    assertThat(ok("query", "-n", disk, "-d")).isEqualTo("chain depth: 1\n");
    assertThat(ok("query", "-n", disk, "-d", "-v", "-f"))
        .isEqualTo("8\nhidden: 0\nchain depth: 1\n");
  }

  @Test
  void createRoundsUpToWholeBlocks() {
    String f = file("odd.vhd");
    ok("create", "-n", f, "-s", "5");
    assertThat(ok("query", "-n", f, "-v")).isEqualTo("6\n");
  }

  @Test
  void createFixed() throws IOException {
    String f = file("fixed.vhd");
    ok("create", "-n", f, "-s", "4", "-r");
    assertThat(Files.size(Path.of(f))).isEqualTo(4 * MIB + 512);
    // vhd-util's order, whatever the order of the flags: -v, -s, -p, -f, -d.
    assertThat(ok("query", "-n", f, "-s", "-v")).isEqualTo("4\n" + (4 * MIB + 512) + "\n");
    assertThat(ok("check", "-n", f)).isEqualTo(f + " is valid\n");
  }

  @Test
  void createAtTheMaximumSize() {
    String f = file("max.vhd");
    ok("create", "-n", f, "-s", "2088960"); // 2040 GiB
    assertThat(ok("query", "-n", f, "-v")).isEqualTo("2088960\n");
  }

  @Test
  void physicalSizeFollowsTheFileAsBlocksAreAdded() throws IOException {
    long empty = Files.size(Path.of(disk));
    write(disk, 3 * MIB, pattern(512, 1));
    long grown = Files.size(Path.of(disk));
    assertThat(grown).isGreaterThan(empty + 2 * MIB);
    assertThat(ok("query", "-n", disk, "-s")).isEqualTo(grown + "\n");
  }

  // ---- snapshot / check ----

  @Test
  void snapshotReportsItsParentAndDepth() {
    String child = file("c.vhd");
    String grandchild = file("g.vhd");
    ok("snapshot", "-n", child, "-p", disk);
    ok("snapshot", "-n", grandchild, "-p", child);
    assertThat(ok("query", "-n", child, "-p")).isEqualTo(disk + "\n");
    assertThat(ok("query", "-n", grandchild, "-p", "-d", "-v"))
        .isEqualTo("8\n" + child + "\nchain depth: 3\n");
    assertThat(ok("check", "-n", grandchild)).isEqualTo(grandchild + " is valid\n");
    assertThat(ok("check", "-n", grandchild, "-p")).isEqualTo(grandchild + " is valid\n");
  }

  // ---- write / read ----

  @Test
  void readReturnsWhatWriteWroteAndZerosElsewhere() throws IOException {
    byte[] data = pattern(3000, 1);
    write(disk, 1000, data);
    byte[] expected = new byte[16 * 512];
    System.arraycopy(data, 0, expected, 1000, data.length);
    assertThat(read(disk, 0, 16)).isEqualTo(expected);
    assertThat(read(disk, 1, 2)).isEqualTo(Arrays.copyOfRange(expected, 512, 1536));
    byte[] whole = read(disk, 0, 8 * MIB / 512);
    assertThat(whole).hasSize((int) (8 * MIB));
    assertThat(Arrays.copyOf(whole, expected.length)).isEqualTo(expected);
    assertThat(Arrays.copyOfRange(whole, expected.length, whole.length)).containsOnly((byte) 0);
  }

  @Test
  void writeFromStandardInput() {
    byte[] data = pattern(1024, 4);
    Result r = run(data, "write", "-n", disk, "-o", Long.toString(5 * MIB), "-i", "-");
    assertThat(r.err()).isEmpty();
    assertThat(r.rc()).isZero();
    assertThat(read(disk, 5 * MIB / 512, 2)).isEqualTo(data);
  }

  @Test
  void readThroughASnapshotShowsParentDataUnderTheChildsWrites() throws IOException {
    byte[] base = pattern(8192, 1);
    write(disk, 0, base);
    String child = file("c.vhd");
    ok("snapshot", "-n", child, "-p", disk);
    byte[] over = pattern(1000, 2);
    write(child, 4196, over);

    byte[] expected = new byte[32 * 512];
    System.arraycopy(base, 0, expected, 0, base.length);
    System.arraycopy(over, 0, expected, 4196, over.length);
    assertThat(read(child, 0, 32)).isEqualTo(expected);
    byte[] parentOnly = new byte[32 * 512];
    System.arraycopy(base, 0, parentOnly, 0, base.length);
    assertThat(read(disk, 0, 32)).isEqualTo(parentOnly);
  }

  // ---- set / resize / coalesce ----

  @Test
  void setHiddenFlag() {
    ok("set", "-n", disk, "-f", "hidden", "-v", "1");
    assertThat(ok("query", "-n", disk, "-f")).isEqualTo("hidden: 1\n");
    assertThat(ok("check", "-n", disk)).isEqualTo(disk + " is valid\n");
    ok("set", "-n", disk, "-f", "hidden", "-v", "0");
    assertThat(ok("query", "-n", disk, "-f")).isEqualTo("hidden: 0\n");
    assertThat(dir.resolve("d.vhd.undo")).doesNotExist();
  }

  @Test
  void resizeGrowsAndKeepsTheData() throws IOException {
    byte[] data = pattern(4096, 3);
    write(disk, 6 * MIB, data);
    ok("resize", "-n", disk, "-s", "20"); // 10 blocks: more than the 4-entry BAT holds
    assertThat(ok("query", "-n", disk, "-v")).isEqualTo("20\n");
    assertThat(ok("check", "-n", disk)).isEqualTo(disk + " is valid\n");
    assertThat(read(disk, 6 * MIB / 512, 8)).isEqualTo(data);
    byte[] tail = pattern(512, 4);
    write(disk, 20 * MIB - 512, tail);
    assertThat(read(disk, 20 * MIB / 512 - 1, 1)).isEqualTo(tail);
    assertThat(read(disk, 10 * MIB / 512, 1)).containsOnly((byte) 0);
  }

  @Test
  void resizeFixedDisk() throws IOException {
    String f = file("fixed.vhd");
    ok("create", "-n", f, "-s", "4", "-r");
    write(f, 4 * MIB - 512, pattern(512, 5));
    ok("resize", "-n", f, "-s", "6");
    assertThat(ok("query", "-n", f, "-v")).isEqualTo("6\n");
    assertThat(Files.size(Path.of(f))).isEqualTo(6 * MIB + 512);
    assertThat(read(f, 4 * MIB / 512 - 1, 1)).isEqualTo(pattern(512, 5));
    assertThat(read(f, 4 * MIB / 512, 4096)).containsOnly((byte) 0);
  }

  @Test
  void coalesceMergesTheChildsWritesIntoTheParent() throws IOException {
    byte[] base = pattern(8192, 1);
    write(disk, 0, base);
    String child = file("c.vhd");
    ok("snapshot", "-n", child, "-p", disk);
    byte[] over = pattern(1000, 2);
    write(child, 4196, over);
    byte[] far = pattern(2048, 3);
    write(child, 7 * MIB, far);
    byte[] childBefore = Files.readAllBytes(Path.of(child));

    ok("coalesce", "-n", child);

    byte[] expected = new byte[32 * 512];
    System.arraycopy(base, 0, expected, 0, base.length);
    System.arraycopy(over, 0, expected, 4196, over.length);
    assertThat(read(disk, 0, 32)).isEqualTo(expected);
    assertThat(read(disk, 7 * MIB / 512, 4)).isEqualTo(far);
    assertThat(read(disk, 16, 32)).containsOnly((byte) 0);
    assertThat(ok("check", "-n", disk)).isEqualTo(disk + " is valid\n");
    assertThat(Files.readAllBytes(Path.of(child))).isEqualTo(childBefore);
  }

  // ---- bad input ----

  @Test
  void unknownCommand() throws IOException {
    assertRejected(2, "unknown command 'frobnicate'", "frobnicate", "-n", disk);
  }

  @Test
  void unknownOption() throws IOException {
    assertRejected(2, "unknown option -z", "query", "-n", disk, "-z");
  }

  @Test
  void missingFileOption() throws IOException {
    assertRejected(2, "missing option -n", "query", "-v");
  }

  @Test
  void queryWithoutAnythingToReport() throws IOException {
    assertRejected(2, "query needs at least one of", "query", "-n", disk);
  }

  @Test
  void nonNumericSize() throws IOException {
    assertRejected(2, "-s needs a number, got 'ten'", "create", "-n", file("n.vhd"), "-s", "ten");
  }

  @Test
  void createOverAnExistingFile() throws IOException {
    assertRejected(1, "file exists: " + disk, "create", "-n", disk, "-s", "16");
  }

  @Test
  void createWithSizeZero() throws IOException {
    assertRejected(
        2, "size must be a positive number of MB, got 0", "create", "-n", file("z.vhd"), "-s", "0");
  }

  @Test
  void createWithNegativeSize() throws IOException {
    assertRejected(2, "got -8", "create", "-n", file("z.vhd"), "-s", "-8");
  }

  @Test
  void createAboveTheMaximumSize() throws IOException {
    assertRejected(1, "exceeds the VHD maximum", "create", "-n", file("big.vhd"), "-s", "2088961");
  }

  @Test
  void createWithASizeWhoseByteCountOverflows() throws IOException {
    // 2^44 + 64 MB is 2^64 + 64 MiB bytes: far above 2040 GiB, whatever the arithmetic does.
    assertRejected(
        1, "exceeds the VHD maximum", "create", "-n", file("big.vhd"), "-s", "17592186044480");
  }

  @Test
  void setHiddenToTwo() throws IOException {
    assertRejected(
        2, "hidden must be 0 or 1, not '2'", "set", "-n", disk, "-f", "hidden", "-v", "2");
  }

  @Test
  void setAnotherField() throws IOException {
    assertRejected(
        2, "only the 'hidden' field can be set", "set", "-n", disk, "-f", "size", "-v", "1");
  }

  @Test
  void resizeShrink() throws IOException {
    write(disk, 0, pattern(512, 1));
    assertRejected(
        1,
        "shrinking from 8388608 to 4194304 bytes is not supported",
        "resize",
        "-n",
        disk,
        "-s",
        "4");
  }

  @Test
  void resizeAboveTheMaximumSize() throws IOException {
    assertRejected(1, "exceeds the VHD maximum", "resize", "-n", disk, "-s", "2088961");
  }

  @Test
  void resizeWithASizeWhoseByteCountOverflows() throws IOException {
    // 2^44 + 8 MB is 2^64 + 8 MiB bytes; it must not pass for the current 8 MiB.
    assertRejected(1, "exceeds the VHD maximum", "resize", "-n", disk, "-s", "17592186044424");
  }

  @Test
  void writePastTheEnd() throws IOException {
    Path in = dir.resolve("in.bin");
    Files.write(in, pattern(200, 1));
    assertRejected(
        2,
        "200 bytes at offset 8388508 do not fit the disk of 8388608 bytes",
        "write",
        "-n",
        disk,
        "-o",
        Long.toString(8 * MIB - 100),
        "-i",
        in.toString());
  }

  @Test
  void writeAtANegativeOffset() throws IOException {
    Path in = dir.resolve("in.bin");
    Files.write(in, pattern(200, 1));
    assertRejected(
        2, "do not fit the disk", "write", "-n", disk, "-o", "-512", "-i", in.toString());
  }

  @Test
  void readPastTheEnd() throws IOException {
    assertRejected(
        2,
        "sectors 16380+5 lie past the end (16384 sectors)",
        "read",
        "-n",
        disk,
        "-r",
        "16380",
        "-c",
        "5");
  }

  @Test
  void readWithACountWhoseByteCountOverflows() throws IOException {
    // 2^55 sectors are 2^64 bytes: far past the end, not an empty read.
    assertRejected(2, "lie past the end", "read", "-n", disk, "-r", "0", "-c", "36028797018963968");
  }

  @Test
  void snapshotOfAMissingParent() throws IOException {
    assertRejected(
        1,
        "no such file: " + file("nope.vhd"),
        "snapshot",
        "-n",
        file("c.vhd"),
        "-p",
        file("nope.vhd"));
    assertThat(dir.resolve("c.vhd")).doesNotExist();
    assertThat(dir.resolve(".c.vhd.creating")).doesNotExist();
  }

  @Test
  void snapshotWithTheParentInAnotherDirectory() throws IOException {
    Path other = Files.createDirectory(dir.resolve("other"));
    String parent = other.resolve("p.vhd").toString();
    ok("create", "-n", parent, "-s", "8");
    assertRejected(
        2,
        "child and parent must be in the same directory",
        "snapshot",
        "-n",
        file("c.vhd"),
        "-p",
        parent);
  }

  @Test
  void checkOfACorruptedFile() throws IOException {
    try (FileChannel ch = FileChannel.open(Path.of(disk), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {0x55}), 512 + 900); // inside the dynamic header
    }
    Map<String, String> before = state();
    Result r = run("check", "-n", disk);
    assertThat(r.rc()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines()).hasSize(1);
    assertThat(r.err()).contains("dynamic header in " + disk + " checksum mismatch");
    assertThat(state()).isEqualTo(before);
  }

  @Test
  void coalesceOfADiskWithoutParent() throws IOException {
    assertRejected(1, disk + " has no parent to coalesce into", "coalesce", "-n", disk);
  }
}
