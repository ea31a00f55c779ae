package org.xsm.plugins.vhd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xsm.plugins.vhd.InteropSupport.BLOCK;
import static org.xsm.plugins.vhd.InteropSupport.MiB;
import static org.xsm.plugins.vhd.InteropSupport.apply;
import static org.xsm.plugins.vhd.InteropSupport.assertSameBytes;
import static org.xsm.plugins.vhd.InteropSupport.engineReadWhole;
import static org.xsm.plugins.vhd.InteropSupport.qemuReadWhole;
import static org.xsm.plugins.vhd.InteropSupport.qemuVirtualSize;
import static org.xsm.plugins.vhd.InteropSupport.randomWrites;
import static org.xsm.plugins.vhd.InteropSupport.runOk;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.xsm.plugins.store.LocalImageStore;

/**
 * VHDs that qemu makes, read (and written) by the engine: every byte the engine reads must be the
 * byte qemu reads ({@code qemu-img convert -O raw}), which must in turn be the content put in.
 */
@Timeout(120)
class VhdInteropQemuImagesIT {
  @TempDir Path dir;

  @BeforeAll
  static void toolsInstalled() {
    InteropSupport.requireTool("qemu-img", "qemu-utils");
    InteropSupport.requireTool("qemu-io", "qemu-utils");
  }

  /** Random content with zero runs: whole zero blocks, zero 64 KiB chunks, zero-filled tails. */
  private static byte[] content(Random rnd, int size) {
    byte[] b = new byte[size];
    int chunk = 64 * 1024;
    for (int off = 0; off < size; off += chunk) {
      int n = Math.min(chunk, size - off);
      int kind = rnd.nextInt(10);
      if (off / BLOCK == 1 || kind < 3) {
        continue; // block 1 stays all zero, so qemu leaves it unallocated
      }
      byte[] r = new byte[n];
      rnd.nextBytes(r);
      if (kind < 5) {
        Arrays.fill(r, rnd.nextInt(n), n, (byte) 0);
      }
      System.arraycopy(r, 0, b, off, n);
    }
    return b;
  }

  static Stream<Arguments> conversions() {
    List<Arguments> a = new ArrayList<>();
    String[][] opts = {
      {"", "qemu"},
      {"subformat=fixed", "qemu"},
      {"force_size=on", "qem2"},
      {"subformat=fixed,force_size=on", "qem2"},
    };
    for (String[] o : opts) {
      for (int size : new int[] {(int) (3 * MiB), (int) (7 * MiB + 3072), (int) (11 * MiB + 512)}) {
        a.add(Arguments.of(o[0], o[1], size));
      }
    }
    return a.stream();
  }

  // ---- 5. we read qemu-made VHDs exactly as qemu does ----

  @ParameterizedTest(name = "-o \"{0}\" raw size {2}")
  @MethodSource("conversions")
  void weReadQemuConvertedVhdsAsQemuDoes(String options, String creator, int rawSize)
      throws Exception {
    long seed = 31L * rawSize + options.hashCode();
    byte[] raw = content(new Random(seed), rawSize);
    Files.write(dir.resolve("in.raw"), raw);
    List<String> cmd = new ArrayList<>(List.of("qemu-img", "convert", "-f", "raw", "-O", "vpc"));
    if (!options.isEmpty()) {
      cmd.addAll(List.of("-o", options));
    }
    cmd.addAll(List.of("in.raw", "q.vhd"));
    runOk(dir, cmd.toArray(String[]::new));
    assertThat(creatorOf("q.vhd")).as("footer creator written by qemu").isEqualTo(creator);
    assertReadAsQemuDoes("q.vhd", raw, "qemu-img convert -o '" + options + "', seed " + seed);
  }

  @Test
  void weReadQemuIoWrittenVhdAsQemuDoes() throws Exception {
    runOk(dir, "qemu-img", "create", "-f", "vpc", "q.vhd", "10M");
    long qemuSize = qemuVirtualSize(dir, "q.vhd");
    byte[] model = new byte[(int) qemuSize];
    List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "vpc"));
    // {pattern, offset, length}; a pattern of -1 means write zeros (-z).
    long[][] writes = {
      {0xab, MiB, 300 * 1024},
      {0xcd, 3 * MiB + 4096, 2 * MiB}, // spans blocks 1 and 2
      {0x12, 5000, 1000}, // unaligned
      {0x34, 2 * MiB - 700, 1400}, // unaligned, across a block boundary
      {-1, MiB + 4096, 8192}, // zeros inside an allocated block
      {0x56, qemuSize - 4096, 4096}, // the last bytes of the disk
      {0x78, 8 * MiB, 512},
    };
    for (long[] w : writes) {
      String c =
          w[0] < 0
              ? "write -z " + w[1] + " " + w[2]
              : "write -P 0x" + Long.toHexString(w[0]) + " " + w[1] + " " + w[2];
      cmd.addAll(List.of("-c", c));
      Arrays.fill(model, (int) w[1], (int) (w[1] + w[2]), (byte) (w[0] < 0 ? 0 : w[0]));
    }
    cmd.add("q.vhd");
    runOk(dir, cmd.toArray(String[]::new));
    assertThat(creatorOf("q.vhd")).isEqualTo("qemu");
    assertReadAsQemuDoes("q.vhd", model, "qemu-img create + qemu-io");
  }

  static Stream<Arguments> createdSizes() {
    return Stream.of(
        Arguments.of("", "10M"),
        Arguments.of("", "127G"), // largest CHS-addressed sizes
        Arguments.of("", "200G"), // past the largest geometry: qemu uses the current size
        Arguments.of("", "2040G"),
        Arguments.of("subformat=fixed", "10M"),
        Arguments.of("subformat=fixed", "200G"),
        Arguments.of("force_size=on", "10M"),
        Arguments.of("force_size=on", "200G"));
  }

  /** Empty disks from {@code qemu-img create}: the engine opens them with qemu's virtual size. */
  @ParameterizedTest(name = "-o \"{0}\" size {1}")
  @MethodSource("createdSizes")
  void ourVirtualSizeOfQemuCreatedDisksIsQemus(String options, String size) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("qemu-img", "create", "-q", "-f", "vpc"));
    if (!options.isEmpty()) {
      cmd.addAll(List.of("-o", options));
    }
    cmd.addAll(List.of("q.vhd", size));
    runOk(dir, cmd.toArray(String[]::new));
    long qemuSize = qemuVirtualSize(dir, "q.vhd");
    try (LocalImageStore store = LocalImageStore.open(dir);
        VhdImage img = openOrFail(store, "q.vhd", qemuSize, "qemu-img create " + options)) {
      assertThat(img.virtualSizeBytes())
          .as("engine virtualSizeBytes vs qemu-img info virtual-size")
          .isEqualTo(qemuSize);
    }
  }

  /**
   * The engine's virtual size is qemu's, and the engine's read of the whole disk is qemu's, which
   * is {@code content} padded with zeros.
   */
  private void assertReadAsQemuDoes(String vhd, byte[] content, String what) throws Exception {
    long qemuSize = qemuVirtualSize(dir, vhd);
    byte[] qemu = qemuReadWhole(dir, vhd);
    assertThat(qemu.length).as("qemu-img convert output length vs info").isEqualTo(qemuSize);
    assertThat(qemuSize)
        .as("qemu's size covers the content")
        .isGreaterThanOrEqualTo(content.length);
    // The oracle itself is right: qemu gives back what was put in.
    assertSameBytes(
        "qemu's read vs the content put in, " + what, qemu, Arrays.copyOf(content, (int) qemuSize));
    try (LocalImageStore store = LocalImageStore.open(dir)) {
      try (VhdImage img = openOrFail(store, vhd, qemuSize, what)) {
        assertThat(img.virtualSizeBytes())
            .as("engine virtualSizeBytes vs qemu-img info virtual-size, " + what)
            .isEqualTo(qemuSize);
      }
      assertSameBytes("engine's read vs qemu's, " + what, engineReadWhole(store, vhd), qemu);
    }
  }

  /** Opens with the engine, failing with a clear message if it rejects a file qemu reads. */
  private static VhdImage openOrFail(LocalImageStore store, String vhd, long qemuSize, String what)
      throws Exception {
    try {
      return VhdImage.open(store, vhd, false);
    } catch (VhdFormatException e) {
      throw new AssertionError(
          "engine rejects a VHD that qemu reads (virtual size "
              + qemuSize
              + "), "
              + what
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** Footer bytes 28..31 of the file's last sector, read without the engine. */
  private String creatorOf(String vhd) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve(vhd).toFile(), "r")) {
      byte[] footer = new byte[512];
      f.seek(f.length() - 512);
      f.readFully(footer);
      return new String(footer, 28, 4, StandardCharsets.ISO_8859_1);
    }
  }

  // ---- 6. qemu reads back what we write into its VHDs ----

  @Test
  void qemuReadsWhatWeWriteIntoItsDynamicVhd() throws Exception {
    long seed = 0x9E11L;
    Random rnd = new Random(seed);
    // 14 MiB: content in the first 9 MiB, blocks 5 and 6 left unallocated by qemu.
    byte[] raw = Arrays.copyOf(content(rnd, (int) (9 * MiB)), (int) (14 * MiB));
    Files.write(dir.resolve("in.raw"), raw);
    runOk(dir, "qemu-img", "convert", "-f", "raw", "-O", "vpc", "in.raw", "q.vhd");
    long size = qemuVirtualSize(dir, "q.vhd");
    byte[] model = Arrays.copyOf(raw, (int) size);
    try (LocalImageStore store = LocalImageStore.open(dir)) {
      try (VhdChain chain = VhdChain.open(store, "q.vhd", true)) {
        assertThat(chain.virtualSizeBytes()).isEqualTo(size);
        // Into qemu's blocks and the unallocated block 1, unaligned too...
        apply(chain, model, randomWrites(rnd, 9 * MiB, 200, 1, (int) (3 * MiB)));
        // ...and a new block (5) that the engine allocates.
        byte[] b5 = new byte[5000];
        rnd.nextBytes(b5);
        chain.write(ByteBuffer.wrap(b5), 10 * MiB + 100);
        System.arraycopy(b5, 0, model, (int) (10 * MiB + 100), b5.length);
        // The last bytes of the disk, in qemu's partial last block.
        chain.write(ByteBuffer.wrap(b5, 0, 3001), size - 3001);
        System.arraycopy(b5, 0, model, (int) size - 3001, 3001);
        chain.flush();
      }
      assertSameBytes(
          "qemu's read after engine writes, seed " + seed, qemuReadWhole(dir, "q.vhd"), model);
      assertSameBytes(
          "engine's read after engine writes, seed " + seed,
          engineReadWhole(store, "q.vhd"),
          model);

      // qemu allocates block 6 after the engine's block 5 and rewrites one of ours.
      runOk(
          dir,
          "qemu-io",
          "-f",
          "vpc",
          "-c",
          "write -P 0x5a " + (12 * MiB + 4096) + " " + MiB,
          "-c",
          "write -P 0x6b " + (10 * MiB) + " 3000",
          "q.vhd");
      Arrays.fill(model, (int) (12 * MiB + 4096), (int) (13 * MiB + 4096), (byte) 0x5a);
      Arrays.fill(model, (int) (10 * MiB), (int) (10 * MiB + 3000), (byte) 0x6b);
      assertSameBytes(
          "qemu's read after qemu-io over engine writes", qemuReadWhole(dir, "q.vhd"), model);
      assertSameBytes(
          "engine's read after qemu-io over engine writes", engineReadWhole(store, "q.vhd"), model);
    }
  }

  /**
   * Growing a qemu-made disk: the engine documents the new virtual size as the requested size
   * rounded up to 2 MiB; qemu and the engine must both see that size, and data written in the grown
   * area.
   */
  @ParameterizedTest(name = "fixed={0}")
  @ValueSource(booleans = {false, true})
  void growingAQemuMadeVhdGivesTheRequestedSizeToQemuToo(boolean fixed) throws Exception {
    long seed = 0x6B0BL + (fixed ? 1 : 0);
    Random rnd = new Random(seed);
    byte[] raw = content(rnd, (int) (5 * MiB));
    Files.write(dir.resolve("in.raw"), raw);
    List<String> cmd = new ArrayList<>(List.of("qemu-img", "convert", "-f", "raw", "-O", "vpc"));
    if (fixed) {
      cmd.addAll(List.of("-o", "subformat=fixed"));
    }
    cmd.addAll(List.of("in.raw", "q.vhd"));
    runOk(dir, cmd.toArray(String[]::new));
    long requested = 20 * MiB;
    long qemuSize;
    try (LocalImageStore store = LocalImageStore.open(dir)) {
      Vhd.resize(store, "q.vhd", requested);
      qemuSize = qemuVirtualSize(dir, "q.vhd");
      long engineSize;
      try (VhdImage img = VhdImage.open(store, "q.vhd", false)) {
        engineSize = img.virtualSizeBytes();
      }
      assertThat(engineSize).as("engine's virtual size after the grow").isEqualTo(qemuSize);
      byte[] model = Arrays.copyOf(raw, (int) qemuSize);
      try (VhdChain chain = VhdChain.open(store, "q.vhd", true)) {
        apply(chain, model, randomWrites(rnd, qemuSize, 100, 1, (int) (3 * MiB)));
      }
      assertSameBytes(
          "qemu's read after grow and writes, seed " + seed, qemuReadWhole(dir, "q.vhd"), model);
      assertSameBytes(
          "engine's read after grow and writes, seed " + seed,
          engineReadWhole(store, "q.vhd"),
          model);
    }
    // Checked last, so that the data checks above run whatever the size.
    assertThat(qemuSize)
        .as(
            "qemu-img info virtual-size after Vhd.resize(%d) of a %s disk made by qemu",
            requested, fixed ? "fixed" : "dynamic")
        .isEqualTo(InteropSupport.roundedSize(requested));
  }
}
