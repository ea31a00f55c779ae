package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.xsm.server.runtime.RunDirectory;

/**
 * What a domain writes to its disk, played by qemu-io on a host's local NBD socket (where a QEMU
 * domain reads its disks: the export named by the VDI's UUID): numbered writes of 64 KiB blocks,
 * each filled with one value, and the disk's expected bytes after any number of them. A snapshot
 * taken while they run must equal the disk after some number of them: one point of the writes.
 */
final class GuestWrites {
  static final int BLOCK = 64 * 1024;

  private final int diskBytes;
  private final int[] blocks;
  private final byte[] values;
  private Process process;
  private final StringBuilder output = new StringBuilder();
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private Thread reader;

  /** {@code count} writes of random blocks of a disk of {@code diskBytes}, values 1..250. */
  GuestWrites(int diskBytes, int count, long seed) {
    this.diskBytes = diskBytes;
    this.blocks = new int[count];
    this.values = new byte[count];
    Random r = new Random(seed);
    for (int i = 0; i < count; i++) {
      blocks[i] = r.nextInt(diskBytes / BLOCK);
      values[i] = (byte) (1 + r.nextInt(250));
    }
  }

  /** The local NBD socket of the server whose data directory is {@code dataDir}. */
  static Path socketOf(Path dataDir) {
    return RunDirectory.of(dataDir).resolve("nbd.sock");
  }

  static List<String> target(Path socket, String vdiUuid) {
    return List.of("-f", "raw", "nbd+unix:///" + vdiUuid + "?socket=" + socket);
  }

  /** Starts the writes on a host's local export; returns once the first one was acknowledged. */
  GuestWrites start(Path socket, String vdiUuid) throws Exception {
    return start(target(socket, vdiUuid));
  }

  /** Starts the writes on qemu-io's {@code target}; returns once the first one was acknowledged. */
  GuestWrites start(List<String> target) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/qemu-io"));
    for (int i = 0; i < blocks.length; i++) {
      cmd.addAll(
          List.of(
              "-c", "write -P " + (values[i] & 0xff) + " " + (long) blocks[i] * BLOCK + " 64k"));
    }
    cmd.addAll(List.of("-c", "flush"));
    cmd.addAll(target);
    process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  synchronized (output) {
                    output.append(line).append('\n');
                  }
                  if (line.startsWith("wrote")) {
                    started.complete(null);
                  }
                }
              } catch (IOException e) {
                started.completeExceptionally(e);
              }
              started.completeExceptionally(new IOException("qemu-io ended:\n" + output()));
            },
            "qemu-io-writes");
    reader.setDaemon(true);
    reader.start();
    started.get(60, TimeUnit.SECONDS);
    return this;
  }

  String output() {
    synchronized (output) {
      return output.toString();
    }
  }

  /** Waits for every write: none failed. */
  void finish() throws Exception {
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("qemu-io ends").isTrue();
    reader.join(10_000);
    assertThat(process.exitValue()).as(output()).isZero();
    assertThat(output()).doesNotContain("failed").doesNotContain("error");
    assertThat(output().lines().filter(l -> l.startsWith("wrote")).count())
        .isEqualTo(blocks.length);
  }

  /** The disk after the first {@code n} writes, over {@code base}. */
  byte[] after(int n, byte[] base) {
    byte[] out = Arrays.copyOf(base, diskBytes);
    for (int i = 0; i < n; i++) {
      Arrays.fill(out, blocks[i] * BLOCK, (blocks[i] + 1) * BLOCK, values[i]);
    }
    return out;
  }

  byte[] afterAll(byte[] base) {
    return after(blocks.length, base);
  }

  /**
   * The number of writes {@code disk} is the state after (over {@code base}), or -1 if it is no
   * such state (a block torn, or blocks from different points of the writes).
   */
  int pointOf(byte[] disk, byte[] base) {
    int nBlocks = diskBytes / BLOCK;
    boolean[] uniform = new boolean[nBlocks];
    byte[] held = new byte[nBlocks];
    boolean[] matches = new boolean[nBlocks];
    int mismatched = 0;
    for (int b = 0; b < nBlocks; b++) {
      held[b] = disk[b * BLOCK];
      uniform[b] = true;
      for (int i = b * BLOCK; i < (b + 1) * BLOCK && uniform[b]; i++) {
        uniform[b] = disk[i] == held[b];
      }
      matches[b] =
          Arrays.equals(disk, b * BLOCK, (b + 1) * BLOCK, base, b * BLOCK, (b + 1) * BLOCK);
      mismatched += matches[b] ? 0 : 1;
    }
    // Walk the writes: a block matches once its last value so far is what the disk holds.
    for (int i = 0; i < blocks.length && mismatched > 0; i++) {
      int b = blocks[i];
      boolean m = uniform[b] && held[b] == values[i];
      if (m != matches[b]) {
        mismatched += m ? -1 : 1;
        matches[b] = m;
      }
      if (mismatched == 0) {
        return i + 1;
      }
    }
    return mismatched == 0 ? 0 : -1;
  }
}
