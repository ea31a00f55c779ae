package org.xsm.plugins.image.tool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.plugins.qcow2.Qcow2Chain;
import org.xsm.plugins.store.LocalImageStore;

class ImgToolTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int img(String... args) {
    out.reset();
    err.reset();
    for (int i = 0; i < args.length; i++) {
      if (args[i].endsWith(".qcow2") || args[i].endsWith(".vhd")) {
        args[i] = dir.resolve(args[i]).toString();
      }
    }
    return new ImgTool(new PrintStream(out, true), new PrintStream(err, true)).run(args);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void createsSnapshotsReadsChecksAndCoalescesQcow2() throws Exception {
    assertThat(img("create", "-n", "a.qcow2", "-s", "16", "-f", "qcow2")).isZero();
    assertThat(img("snapshot", "-n", "b.qcow2", "-p", "a.qcow2")).isZero();
    try (Qcow2Chain c = Qcow2Chain.open(LocalImageStore.open(dir), "b.qcow2", true)) {
      byte[] d = new byte[1024];
      Arrays.fill(d, (byte) 'x');
      c.write(ByteBuffer.wrap(d), 512);
    }
    assertThat(img("info", "-n", "b.qcow2")).isZero();
    assertThat(out())
        .contains("format: qcow2")
        .contains("virtual size: 16777216 bytes")
        .contains("parent: " + dir.resolve("a.qcow2"))
        .contains("hidden: 0")
        .contains("chain depth: 2");
    assertThat(img("read", "-n", "b.qcow2", "-r", "1", "-c", "2")).isZero();
    assertThat(out.toByteArray()).hasSize(1024).containsOnly((byte) 'x');
    assertThat(img("check", "-n", "b.qcow2", "-p")).isZero();
    assertThat(out()).contains("is valid");
    assertThat(img("coalesce", "-n", "b.qcow2")).isZero();
    assertThat(img("read", "-n", "a.qcow2", "-r", "0", "-c", "2")).isZero();
    assertThat(Arrays.copyOfRange(out.toByteArray(), 512, 1024)).containsOnly((byte) 'x');
  }

  @Test
  void theFormatFollowsTheSizeUnlessAskedAndVhdWorksToo() throws Exception {
    assertThat(img("create", "-n", "small.vhd", "-s", "8")).isZero();
    assertThat(img("info", "-n", "small.vhd")).isZero();
    assertThat(out()).contains("format: vhd");
    Path big = dir.resolve("big");
    assertThat(img("create", "-n", big.toString(), "-s", String.valueOf(3L << 20))).isZero();
    assertThat(img("info", "-n", big.toString())).isZero();
    assertThat(out()).contains("format: qcow2").contains("virtual size: 3298534883328 bytes");
    assertThat(img("create", "-n", "toobig.vhd", "-s", String.valueOf(3L << 20), "-f", "vhd"))
        .isEqualTo(ImgTool.EXIT_ERROR);
    assertThat(err()).contains("exceeds the vhd maximum");
    assertThat(Files.exists(dir.resolve("toobig.vhd"))).isFalse();
  }

  @Test
  void badInputIsRefusedWithOneLine() throws Exception {
    assertThat(img("frobnicate")).isEqualTo(ImgTool.EXIT_USAGE);
    assertThat(img("create", "-n", "a.qcow2")).isEqualTo(ImgTool.EXIT_USAGE);
    assertThat(err()).contains("missing option -s");
    assertThat(img("create", "-n", "a.qcow2", "-s", "1", "-f", "raw"))
        .isEqualTo(ImgTool.EXIT_USAGE);
    assertThat(err()).contains("unknown image format 'raw'");
    assertThat(img("info", "-n", "missing.qcow2")).isEqualTo(ImgTool.EXIT_ERROR);
    assertThat(err()).startsWith("img info: no such file:");
    Files.write(dir.resolve("junk.qcow2"), new byte[4096]);
    assertThat(img("check", "-n", "junk.qcow2")).isEqualTo(ImgTool.EXIT_ERROR);
    assertThat(err()).contains("is neither a qcow2 nor a VHD image");
    assertThat(img("create", "-n", "a.qcow2", "-s", "1")).isZero();
    assertThat(img("read", "-n", "a.qcow2", "-r", "2047", "-c", "2")).isEqualTo(ImgTool.EXIT_USAGE);
    assertThat(err()).contains("lie past the end (2048 sectors)");
    assertThat(img("coalesce", "-n", "a.qcow2")).isEqualTo(ImgTool.EXIT_ERROR);
    assertThat(err()).contains("has no backing file");
  }
}
