package org.xsm.plugins.vhd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xsm.plugins.vhd.InteropSupport.BLOCK;
import static org.xsm.plugins.vhd.InteropSupport.GiB;
import static org.xsm.plugins.vhd.InteropSupport.MiB;
import static org.xsm.plugins.vhd.InteropSupport.SYSTEM_PYTHON;
import static org.xsm.plugins.vhd.InteropSupport.apply;
import static org.xsm.plugins.vhd.InteropSupport.assertQemuIdentical;
import static org.xsm.plugins.vhd.InteropSupport.assertSameBytes;
import static org.xsm.plugins.vhd.InteropSupport.engineReadWhole;
import static org.xsm.plugins.vhd.InteropSupport.qemuVirtualSize;
import static org.xsm.plugins.vhd.InteropSupport.randomWrites;
import static org.xsm.plugins.vhd.InteropSupport.roundedSize;
import static org.xsm.plugins.vhd.InteropSupport.runOk;
import static org.xsm.plugins.vhd.InteropSupport.writeRaw;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
 * VHDs the engine makes, read by independent implementations: qemu-img (vpc driver), vhdiinfo and
 * pyvhdi (libvhdi). The oracles are the external tools and a byte-array model of what was written,
 * never the engine's own output.
 */
@Timeout(120)
class VhdInteropIT {
  @TempDir Path dir;

  @BeforeAll
  static void toolsInstalled(@TempDir Path tmp) throws Exception {
    InteropSupport.requireTool("qemu-img", "qemu-utils");
    InteropSupport.requireTool("vhdiinfo", "libvhdi-utils");
    InteropSupport.requirePyvhdi(tmp);
  }

  // ---- 1. qemu-img info reports our virtual size ----

  static Stream<Arguments> sizes() {
    List<Arguments> a = new ArrayList<>();
    for (boolean fixed : new boolean[] {false, true}) {
      for (long s : new long[] {1, 2 * MiB, 3 * MiB + 1, 5 * MiB - 512, 64 * MiB, 1000 * MiB}) {
        a.add(Arguments.of(fixed, s));
      }
    }
    a.add(Arguments.of(false, 100 * GiB));
    a.add(Arguments.of(false, 100 * GiB + 12345));
    a.add(Arguments.of(false, 2040 * GiB)); // qemu's VHD_MAX_SECTORS, the format's ceiling
    return a.stream();
  }

  @ParameterizedTest(name = "fixed={0} size={1}")
  @MethodSource("sizes")
  void qemuImgInfoReportsOurVirtualSize(boolean fixed, long requested) throws Exception {
    long expected = roundedSize(requested);
    try (LocalImageStore store = LocalImageStore.open(dir)) {
      try (VhdImage img =
          fixed
              ? VhdCreator.createFixed(store, "d.vhd", requested)
              : VhdCreator.createDynamic(store, "d.vhd", requested)) {
        assertThat(img.virtualSizeBytes()).isEqualTo(expected);
      }
    }
    assertThat(qemuVirtualSize(dir, "d.vhd"))
        .as("qemu-img info virtual-size of a %s disk requested at %d bytes", kind(fixed), requested)
        .isEqualTo(expected);
    if (!fixed) {
      // An empty dynamic disk maps nothing: every BAT entry reads as unused.
      String map = runOk(dir, "qemu-img", "map", "-f", "vpc", "--output=json", "d.vhd").out();
      assertThat(map).as("qemu-img map of an empty dynamic disk").doesNotContain("\"data\": true");
      assertThat(map).contains("\"length\": " + expected);
    }
  }

  private static String kind(boolean fixed) {
    return fixed ? "fixed" : "dynamic";
  }

  /**
   * Writes at far offsets of large sparse disks (BAT entries and file offsets far apart), checked
   * by qemu-io's pattern verification; qemu-img map must show exactly the blocks written.
   */
  @ParameterizedTest(name = "fixed={0} size={1}")
  @MethodSource("largeDisks")
  void qemuReadsOurWritesAtFarOffsetsOfLargeDisks(boolean fixed, long size) throws Exception {
    long[][] writes = { // {offset, length, pattern}
      {0, 700, 0x11},
      {size / 2 - 1000, 3000, 0x22}, // across a block boundary
      {size - BLOCK - 512, 4096, 0x33},
      {size - 5000, 5000, 0x44}, // the last bytes
    };
    TreeSet<Long> blocks = new TreeSet<>();
    try (LocalImageStore store = LocalImageStore.open(dir)) {
      Vhd.create(store, "big.vhd", size, fixed);
      try (VhdChain chain = VhdChain.open(store, "big.vhd", true)) {
        for (long[] w : writes) {
          byte[] data = new byte[(int) w[1]];
          Arrays.fill(data, (byte) w[2]);
          chain.write(ByteBuffer.wrap(data), w[0]);
          for (long b = w[0] / BLOCK; b <= (w[0] + w[1] - 1) / BLOCK; b++) {
            blocks.add(b);
          }
        }
      }
    }
    List<String> cmd = new ArrayList<>(List.of("qemu-io", "-r", "-f", "vpc"));
    for (long[] w : writes) {
      cmd.addAll(List.of("-c", "read -P 0x" + Long.toHexString(w[2]) + " " + w[0] + " " + w[1]));
    }
    // Untouched bytes read as zeros: right after the first write, and just before the last one.
    cmd.addAll(List.of("-c", "read -P 0 700 " + (BLOCK - 700)));
    cmd.addAll(List.of("-c", "read -P 0 " + (size - BLOCK - 512 + 4096) + " 65536"));
    cmd.add("big.vhd");
    InteropSupport.Result r = runOk(dir, cmd.toArray(String[]::new));
    assertThat(r.out()).as(r.describe()).doesNotContain("verification failed");
    if (!fixed) {
      String map = runOk(dir, "qemu-img", "map", "-f", "vpc", "--output=json", "big.vhd").out();
      TreeSet<Long> mapped = new TreeSet<>();
      Matcher m =
          Pattern.compile("\"start\": (\\d+), \"length\": (\\d+),[^}]*\"data\": true").matcher(map);
      while (m.find()) {
        long start = Long.parseLong(m.group(1));
        long len = Long.parseLong(m.group(2));
        assertThat(start % BLOCK).as("mapped extent start in\n%s", map).isZero();
        for (long b = start / BLOCK; b < (start + len + BLOCK - 1) / BLOCK; b++) {
          mapped.add(b);
        }
      }
      assertThat(mapped).as("blocks qemu-img map shows as data\n%s", map).isEqualTo(blocks);
    }
  }

  static Stream<Arguments> largeDisks() {
    return Stream.of(
        Arguments.of(false, 100 * GiB),
        Arguments.of(false, 2040 * GiB),
        Arguments.of(true, 100 * GiB));
  }

  // ---- 2. qemu-img compare after random writes and a resize ----

  @ParameterizedTest(name = "fixed={0}")
  @ValueSource(booleans = {false, true})
  void qemuImgCompareSaysIdenticalAfterRandomWritesAndGrow(boolean fixed) throws Exception {
    long seed = 0x5EED0000L + (fixed ? 1 : 0);
    Random rnd = new Random(seed);
    long requested = 9 * MiB + 777; // rounds up to 10 MiB
    long size = roundedSize(requested);
    byte[] model = new byte[(int) size];
    try (LocalImageStore store = LocalImageStore.open(dir)) {
      (fixed
              ? VhdCreator.createFixed(store, "d.vhd", requested)
              : VhdCreator.createDynamic(store, "d.vhd", requested))
          .close();
      // Two sessions of writes, closing and reopening in between.
      for (int session = 0; session < 2; session++) {
        try (VhdChain chain = VhdChain.open(store, "d.vhd", true)) {
          apply(chain, model, randomWrites(rnd, size, 150, 1, (int) (3 * MiB)));
        }
      }
      writeRaw(dir, "expected.raw", model);
      assertThat(qemuVirtualSize(dir, "d.vhd")).isEqualTo(size);
      assertQemuIdentical(dir, "d.vhd", "expected.raw");
      assertSameBytes(
          "engine's own read-back, seed " + seed, engineReadWhole(store, "d.vhd"), model);

      // Grow past the BAT's capacity, then write everywhere, the new area included.
      long grownRequested = 17 * MiB + 3;
      long grown = roundedSize(grownRequested);
      Vhd.resize(store, "d.vhd", grownRequested);
      model = Arrays.copyOf(model, (int) grown);
      try (VhdChain chain = VhdChain.open(store, "d.vhd", true)) {
        assertThat(chain.virtualSizeBytes()).isEqualTo(grown);
        apply(chain, model, randomWrites(rnd, grown, 150, 1, (int) (3 * MiB)));
        byte[] tail = new byte[(int) MiB + 100];
        rnd.nextBytes(tail);
        chain.write(ByteBuffer.wrap(tail), size - 50); // straddles the old end
        System.arraycopy(tail, 0, model, (int) size - 50, tail.length);
      }
      writeRaw(dir, "expected-grown.raw", model);
      assertThat(qemuVirtualSize(dir, "d.vhd"))
          .as("qemu-img info virtual-size after growing to %d", grownRequested)
          .isEqualTo(grown);
      assertQemuIdentical(dir, "d.vhd", "expected-grown.raw");
      assertSameBytes(
          "engine's own read-back after grow, seed " + seed,
          engineReadWhole(store, "d.vhd"),
          model);
    }
  }

  /**
   * Coalescing a differencing child into its dynamic parent (growing the parent, since the child
   * was grown): qemu, which reads the parent alone, must see the whole chain's content.
   */
  @Test
  void qemuReadsTheParentAfterCoalesceAsTheChainWas() throws Exception {
    long seed = 0xC0A1L;
    Random rnd = new Random(seed);
    long size = 6 * MiB;
    long grown = 10 * MiB;
    byte[] model = new byte[(int) grown];
    try (LocalImageStore store = LocalImageStore.open(dir)) {
      Vhd.create(store, "parent.vhd", size, false);
      try (VhdChain chain = VhdChain.open(store, "parent.vhd", true)) {
        apply(chain, model, randomWrites(rnd, size, 100, 1, (int) (3 * MiB)));
      }
      Vhd.snapshot(store, "child.vhd", "parent.vhd");
      Vhd.resize(store, "child.vhd", grown);
      try (VhdChain chain = VhdChain.open(store, "child.vhd", true)) {
        apply(chain, model, randomWrites(rnd, grown, 150, 1, (int) (3 * MiB)));
      }
      assertSameBytes(
          "engine's chain read before coalesce, seed " + seed,
          engineReadWhole(store, "child.vhd"),
          model);
      Vhd.coalesce(store, "child.vhd");
      writeRaw(dir, "expected.raw", model);
      assertThat(qemuVirtualSize(dir, "parent.vhd")).isEqualTo(grown);
      assertQemuIdentical(dir, "parent.vhd", "expected.raw");
      assertThat(Vhd.check(store, "child.vhd", true)).isEmpty();
    }
  }

  // ---- 3. vhdiinfo reports type, UUID, parent UUID and parent name ----

  @Test
  void vhdiinfoReportsTypeUuidAndParent() throws Exception {
    try (LocalImageStore store = LocalImageStore.open(dir)) {
      Vhd.create(store, "fixed.vhd", 6 * MiB, true);
      Vhd.create(store, "base.vhd", 8 * MiB, false);
      Vhd.create(store, "other.vhd", 8 * MiB, false);
      Vhd.snapshot(store, "child.vhd", "base.vhd");

      Map<String, String> fixed = vhdiinfo("fixed.vhd");
      assertThat(fixed.get("Disk type")).isEqualTo("Fixed");
      assertThat(fixed.get("Identifier")).isEqualTo(footerUuid("fixed.vhd").toString());
      assertThat(fixed.get("Media size")).endsWith("(" + 6 * MiB + " bytes)");
      assertThat(fixed).doesNotContainKey("Parent identifier");

      Map<String, String> base = vhdiinfo("base.vhd");
      UUID baseUuid = footerUuid("base.vhd");
      assertThat(base.get("Disk type")).isEqualTo("Dynamic");
      assertThat(base.get("Identifier")).isEqualTo(baseUuid.toString());
      assertThat(base.get("Media size")).endsWith("(" + 8 * MiB + " bytes)");
      assertThat(base).doesNotContainKey("Parent identifier");

      Map<String, String> child = vhdiinfo("child.vhd");
      assertThat(child.get("Disk type")).isEqualTo("Differential");
      assertThat(child.get("Identifier"))
          .isEqualTo(footerUuid("child.vhd").toString())
          .isNotEqualTo(baseUuid.toString());
      assertThat(child.get("Parent identifier")).isEqualTo(baseUuid.toString());
      assertThat(child.get("Parent filename")).isEqualTo("base.vhd");
      assertThat(child.get("Media size")).endsWith("(" + 8 * MiB + " bytes)");
      // The engine agrees with the bytes in the file.
      assertThat(Vhd.query(store, "child.vhd").uuid()).isEqualTo(footerUuid("child.vhd"));

      // Re-parenting rewrites what vhdiinfo sees.
      Vhd.setParent(store, "child.vhd", "other.vhd");
      Map<String, String> moved = vhdiinfo("child.vhd");
      assertThat(moved.get("Parent identifier")).isEqualTo(footerUuid("other.vhd").toString());
      assertThat(moved.get("Parent filename")).isEqualTo("other.vhd");
      assertThat(moved.get("Identifier")).isEqualTo(child.get("Identifier"));

      // blktap's hidden flag (footer byte 85, inside the checksum) keeps the file readable.
      Vhd.setHidden(store, "base.vhd", true);
      assertThat(vhdiinfo("base.vhd")).isEqualTo(base);
      assertThat(qemuVirtualSize(dir, "base.vhd")).isEqualTo(8 * MiB);
    }
  }

  /** vhdiinfo's "Key : value" lines. */
  private Map<String, String> vhdiinfo(String name) throws Exception {
    String out = runOk(dir, "vhdiinfo", name).out();
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : out.split("\n")) {
      int colon = line.indexOf(':');
      if (line.startsWith("\t") && colon > 0) {
        m.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
      }
    }
    assertThat(m).as("vhdiinfo %s output:\n%s", name, out).containsKeys("Disk type", "Identifier");
    return m;
  }

  /** The UUID in the file's last 512 bytes (the primary footer), read without the engine. */
  private UUID footerUuid(String name) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve(name).toFile(), "r")) {
      byte[] footer = new byte[512];
      f.seek(f.length() - 512);
      f.readFully(footer);
      assertThat(new String(footer, 0, 8, StandardCharsets.US_ASCII)).isEqualTo("conectix");
      ByteBuffer b = ByteBuffer.wrap(footer, 68, 16);
      return new UUID(b.getLong(), b.getLong());
    }
  }

  // ---- 4. pyvhdi reads our differencing chains as we do ----

  private static final String PYVHDI_DUMP =
      """
      import sys, pyvhdi
      out, paths = sys.argv[1], sys.argv[2:]  # leaf first, base last
      files = []
      for p in paths:
          f = pyvhdi.file()
          f.open(p)
          files.append(f)
      for i in range(len(files) - 2, -1, -1):
          files[i].set_parent(files[i + 1])
      leaf = files[0]
      size = leaf.get_media_size()
      with open(out, "wb") as o:
          off = 0
          while off < size:
              n = min(1 << 20, size - off)
              b = leaf.read_buffer_at_offset(n, off)
              if len(b) != n:
                  sys.exit("short read at %d: %d of %d" % (off, len(b), n))
              o.write(b)
              off += n
      for f in files:
          f.close()
      print(size)
      """;

  @Test
  void pyvhdiReadsOurDifferencingChainsAsWeDo() throws Exception {
    long seed = 0xC4A1EL;
    Random rnd = new Random(seed);
    long size = 12 * MiB;
    List<String> names = List.of("l0.vhd", "l1.vhd", "l2.vhd", "l3.vhd");
    List<byte[]> models = new ArrayList<>();
    byte[] model = new byte[(int) size];
    try (LocalImageStore store = LocalImageStore.open(dir)) {
      Vhd.create(store, names.get(0), size, false);
      for (int level = 0; level < names.size(); level++) {
        if (level > 0) {
          Vhd.snapshot(store, names.get(level), names.get(level - 1));
        }
        try (VhdChain chain = VhdChain.open(store, names.get(level), true)) {
          assertThat(chain.depth()).isEqualTo(level + 1);
          // 4 KiB-aligned runs (pyvhdi misreads runs ending mid-byte of a sector bitmap).
          apply(chain, model, randomWrites(rnd, size, 40, 4096, (int) (3 * MiB)));
          // One whole block at some level, so full blocks are covered too.
          if (level == 1) {
            byte[] whole = new byte[(int) BLOCK];
            rnd.nextBytes(whole);
            chain.write(ByteBuffer.wrap(whole), 2 * BLOCK);
            System.arraycopy(whole, 0, model, (int) (2 * BLOCK), whole.length);
          }
        }
        models.add(model.clone());
      }
      Files.writeString(dir.resolve("dump.py"), PYVHDI_DUMP);
      // Each level of the chain, from the leaf down to the base.
      for (int level = names.size() - 1; level >= 0; level--) {
        List<String> cmd = new ArrayList<>(List.of(SYSTEM_PYTHON, "dump.py", "py.raw"));
        for (int i = level; i >= 0; i--) {
          cmd.add(names.get(i));
        }
        Files.deleteIfExists(dir.resolve("py.raw"));
        InteropSupport.Result r = runOk(dir, cmd.toArray(String[]::new));
        assertThat(r.out().trim()).as(r.describe()).isEqualTo(Long.toString(size));
        byte[] py = Files.readAllBytes(dir.resolve("py.raw"));
        byte[] ours = engineReadWhole(store, names.get(level));
        String what = "chain " + cmd.subList(3, cmd.size()) + ", seed " + seed;
        assertSameBytes("pyvhdi vs VhdChain, " + what, py, ours);
        assertSameBytes("VhdChain vs model, " + what, ours, models.get(level));
      }
    }
  }
}
