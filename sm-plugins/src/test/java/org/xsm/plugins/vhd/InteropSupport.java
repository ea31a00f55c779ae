package org.xsm.plugins.vhd;

import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xsm.plugins.store.ImageStore;

/**
 * Helpers for the interop tests: running the external validators (qemu-img, qemu-io, vhdiinfo,
 * pyvhdi), a byte-array model of a disk, and byte comparisons with short failure messages.
 */
public final class InteropSupport {
  public static final long MiB = 1024L * 1024;
  public static final long GiB = 1024 * MiB;
  static final long BLOCK = 2 * MiB;

  /** The Python that has python3-libvhdi (Debian's, not a pyenv one on PATH). */
  static final String SYSTEM_PYTHON = "/usr/bin/python3";

  private static final long TIMEOUT_SECONDS = 60;

  private InteropSupport() {}

  /** The outcome of one external command. */
  public record Result(List<String> command, int exit, byte[] stdout, String stderr) {
    public String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    public String describe() {
      return "`"
          + String.join(" ", command)
          + "` exited "
          + exit
          + "\n--- stdout ---\n"
          + abbreviate(out())
          + "\n--- stderr ---\n"
          + abbreviate(stderr);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 4000 ? s : s.substring(0, 4000) + "... (" + s.length() + " chars)";
  }

  /** Fails (never skips) if {@code exe} is not on PATH, naming the Debian package to install. */
  public static void requireTool(String exe, String debianPackage) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String d : path.split(File.pathSeparator)) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, exe))) {
        return;
      }
    }
    fail(
        "external validator '%s' is not installed (PATH=%s): apt-get install %s (./xsm test does)",
        exe, path, debianPackage);
  }

  /** Fails (never skips) if the system Python cannot import pyvhdi. */
  static void requirePyvhdi(Path dir) throws Exception {
    if (!Files.isExecutable(Path.of(SYSTEM_PYTHON))) {
      fail("%s is missing: apt-get install python3-libvhdi (./xsm test does)", SYSTEM_PYTHON);
    }
    Result r = run(dir, SYSTEM_PYTHON, "-c", "import pyvhdi");
    if (r.exit() != 0) {
      fail(
          "python3-libvhdi is not importable by %s: apt-get install python3-libvhdi"
              + " (./xsm test does)\n%s",
          SYSTEM_PYTHON, r.describe());
    }
  }

  /** Runs a command in {@code dir}, with a timeout; never fails on a non-zero exit. */
  public static Result run(Path dir, String... command) throws Exception {
    List<String> cmd = List.of(command);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().put("LC_ALL", "C");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new AssertionError("cannot start `" + String.join(" ", cmd) + "`: " + e, e);
    }
    p.getOutputStream().close();
    FutureTask<byte[]> out = drain(p.getInputStream());
    FutureTask<byte[]> err = drain(p.getErrorStream());
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError(
          "`"
              + String.join(" ", cmd)
              + "` did not finish within "
              + TIMEOUT_SECONDS
              + " s and was killed; stderr:\n"
              + new String(err.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
    }
    return new Result(cmd, p.exitValue(), out.get(), new String(err.get(), StandardCharsets.UTF_8));
  }

  /** Reads a stream to its end on a thread of its own, so neither pipe can fill and block. */
  private static FutureTask<byte[]> drain(InputStream in) {
    FutureTask<byte[]> t =
        new FutureTask<>(
            () -> {
              try (in) {
                return in.readAllBytes();
              }
            });
    Thread th = new Thread(t, "drain");
    th.setDaemon(true);
    th.start();
    return t;
  }

  /** Runs a command and fails with its output unless it exits 0. */
  public static Result runOk(Path dir, String... command) throws Exception {
    Result r = run(dir, command);
    if (r.exit() != 0) {
      fail("command failed: %s", r.describe());
    }
    return r;
  }

  private static final Pattern VIRTUAL_SIZE = Pattern.compile("\"virtual-size\"\\s*:\\s*(\\d+)");

  /** {@code qemu-img info -f vpc --output=json}'s virtual-size. */
  static long qemuVirtualSize(Path dir, String vhd) throws Exception {
    Result r = runOk(dir, "qemu-img", "info", "-f", "vpc", "--output=json", vhd);
    Matcher m = VIRTUAL_SIZE.matcher(r.out());
    if (!m.find()) {
      fail("no virtual-size in qemu-img info output: %s", r.describe());
    }
    return Long.parseLong(m.group(1));
  }

  /** The disk as qemu reads it: {@code qemu-img convert -f vpc -O raw}. */
  static byte[] qemuReadWhole(Path dir, String vhd) throws Exception {
    String raw = vhd + ".qemu.raw";
    Files.deleteIfExists(dir.resolve(raw));
    runOk(dir, "qemu-img", "convert", "-f", "vpc", "-O", "raw", vhd, raw);
    byte[] b = Files.readAllBytes(dir.resolve(raw));
    Files.delete(dir.resolve(raw));
    return b;
  }

  /** Fails unless qemu-img compare finds {@code vhd} (vpc) identical to {@code raw}. */
  static void assertQemuIdentical(Path dir, String vhd, String raw) throws Exception {
    Result r = run(dir, "qemu-img", "compare", "-f", "vpc", "-F", "raw", vhd, raw);
    if (r.exit() != 0 || !r.out().contains("Images are identical")) {
      fail("qemu-img compare: %s differs from the expected content:\n%s", vhd, r.describe());
    }
  }

  /** The whole disk as the engine reads it through the chain. */
  static byte[] engineReadWhole(ImageStore store, String name) throws IOException {
    try (VhdChain chain = VhdChain.open(store, name, false)) {
      long size = chain.virtualSizeBytes();
      if (size > Integer.MAX_VALUE - 16) {
        throw new IllegalArgumentException("disk too large for a test: " + size);
      }
      ByteBuffer b = ByteBuffer.allocate((int) size);
      chain.read(b, 0);
      return b.array();
    }
  }

  /** Fails with the first differing offset (never dumping megabytes) unless equal. */
  public static void assertSameBytes(String what, byte[] actual, byte[] expected) {
    if (actual.length != expected.length) {
      int common = Math.min(actual.length, expected.length);
      int m = Arrays.mismatch(actual, 0, common, expected, 0, common);
      fail(
          "%s: length %d, expected %d (first difference in the common part: %s)",
          what, actual.length, expected.length, m < 0 ? "none" : "byte " + m);
    }
    int m = Arrays.mismatch(actual, expected);
    if (m >= 0) {
      int end = m;
      while (end < actual.length && actual[end] != expected[end]) {
        end++;
      }
      fail(
          "%s: first difference at byte %d (sector %d, block %d): got 0x%02x, expected 0x%02x;"
              + " differing run of %d bytes",
          what, m, m / 512, m / BLOCK, actual[m], expected[m], end - m);
    }
  }

  /** One random write: where and what. */
  public record Write(long offset, byte[] data) {}

  /**
   * Random writes within {@code [0, size)}: offsets and lengths multiples of {@code align} (1 for
   * unaligned), lengths mostly small, some medium, some spanning blocks, some at the very end.
   */
  public static List<Write> randomWrites(Random rnd, long size, int count, int align, int maxLen) {
    List<Write> ws = new ArrayList<>();
    long units = size / align;
    for (int i = 0; i < count; i++) {
      int kind = rnd.nextInt(10);
      long lenUnits;
      if (kind < 4) {
        lenUnits = 1 + rnd.nextInt(Math.max(1, 2048 / align));
      } else if (kind < 8) {
        lenUnits = 1 + rnd.nextInt(Math.max(1, (int) (128 * 1024 / align)));
      } else {
        lenUnits = 1 + rnd.nextInt(Math.max(1, maxLen / align));
      }
      lenUnits = Math.min(lenUnits, units);
      long off;
      if (kind == 9) {
        off = units - lenUnits; // ends at the last byte of the disk
      } else if (kind == 8) {
        // straddles a block boundary
        long boundary = (1 + rnd.nextLong(Math.max(1, size / BLOCK))) * BLOCK / align;
        off = Math.max(0, Math.min(units - lenUnits, boundary - 1 - rnd.nextLong(lenUnits)));
      } else {
        off = rnd.nextLong(units - lenUnits + 1);
      }
      byte[] data = new byte[(int) (lenUnits * align)];
      rnd.nextBytes(data);
      if (rnd.nextInt(8) == 0) {
        Arrays.fill(data, data.length / 4, data.length / 2, (byte) 0);
      }
      ws.add(new Write(off * align, data));
    }
    return ws;
  }

  /** Applies writes to the engine's chain and to the model; flushes now and then. */
  static void apply(VhdChain chain, byte[] model, List<Write> writes) throws IOException {
    int i = 0;
    for (Write w : writes) {
      chain.write(ByteBuffer.wrap(w.data()), w.offset());
      System.arraycopy(w.data(), 0, model, (int) w.offset(), w.data().length);
      if (++i % 37 == 0) {
        chain.flush();
      }
    }
    chain.flush();
  }

  /** Applies writes to the model only. */
  public static void applyToModel(byte[] model, List<Write> writes) {
    for (Write w : writes) {
      System.arraycopy(w.data(), 0, model, (int) w.offset(), w.data().length);
    }
  }

  /** Rounds up to whole 2 MiB blocks, at least one: the engine's documented size rule. */
  static long roundedSize(long requested) {
    return Math.max(BLOCK, (requested + BLOCK - 1) / BLOCK * BLOCK);
  }

  /** Writes the model to a raw file in {@code dir}. */
  static void writeRaw(Path dir, String name, byte[] model) throws IOException {
    Files.write(dir.resolve(name), model);
  }
}
