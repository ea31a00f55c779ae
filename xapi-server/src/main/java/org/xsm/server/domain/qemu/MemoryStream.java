package org.xsm.server.domain.qemu;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;

/**
 * A domain's memory image on its way between QEMU and a suspend VDI, through a FIFO: QEMU's
 * migration stream ({@code exec:cat > fifo} on save, {@code exec:cat fifo} on restore) is copied
 * block by block to or from the VDI's device, never to a file on the host.
 *
 * <p>Layout in the VDI: a 4 KiB header ({@code XSMQEMU1}, then the stream's length as a big-endian
 * long), then the stream. The VDI is thin, so only what the stream holds takes space.
 */
final class MemoryStream {
  static final int HEADER_BYTES = 4096;
  private static final byte[] MAGIC = "XSMQEMU1".getBytes(StandardCharsets.US_ASCII);
  private static final int CHUNK = 1 << 20;

  private MemoryStream() {}

  /** Makes the FIFO (replacing a stale one). */
  static void makeFifo(Path fifo) throws IOException {
    Files.deleteIfExists(fifo);
    Process p =
        new ProcessBuilder("mkfifo", "-m", "600", fifo.toString())
            .redirectErrorStream(true)
            .start();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(
            "mkfifo "
                + fifo
                + " failed: "
                + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted making " + fifo, e);
    }
  }

  /**
   * Copies everything written into the FIFO into {@code image} after the header, then writes the
   * header and flushes; completes with the stream's length. Runs on its own thread (opening a FIFO
   * blocks until the other side opens it).
   */
  static CompletableFuture<Long> intoVdi(Path fifo, VdiDevice image) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (InputStream in = Files.newInputStream(fifo)) {
            long off = 0;
            byte[] buf = new byte[CHUNK];
            int n;
            while ((n = in.readNBytes(buf, 0, CHUNK)) > 0) {
              if (HEADER_BYTES + off + n > image.sizeBytes()) {
                throw new IOException(
                    "memory image larger than its VDI (" + image.sizeBytes() + " bytes)");
              }
              image.write(ByteBuffer.wrap(buf, 0, n), HEADER_BYTES + off);
              off += n;
            }
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).put(MAGIC).putLong(off);
            h.clear();
            image.write(h, 0);
            image.flush();
            return off;
          } catch (IOException | SmException e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        },
        daemon("memory-save"));
  }

  /**
   * Writes the stream held by {@code image} into the FIFO (for QEMU to read); completes with its
   * length.
   */
  static CompletableFuture<Long> fromVdi(VdiDevice image, Path fifo) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            long length = length(image);
            try (OutputStream out = Files.newOutputStream(fifo)) {
              byte[] buf = new byte[CHUNK];
              for (long off = 0; off < length; off += CHUNK) {
                int n = (int) Math.min(CHUNK, length - off);
                image.read(ByteBuffer.wrap(buf, 0, n), HEADER_BYTES + off);
                out.write(buf, 0, n);
              }
            }
            return length;
          } catch (IOException | SmException e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        },
        daemon("memory-restore"));
  }

  /** The stream length recorded in an image's header. */
  static long length(VdiDevice image) throws IOException, SmException {
    ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
    image.read(h, 0);
    h.flip();
    byte[] magic = new byte[MAGIC.length];
    h.get(magic);
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      throw new IOException("not a QEMU memory image (no XSMQEMU1 header)");
    }
    long length = h.getLong();
    if (length < 0 || HEADER_BYTES + length > image.sizeBytes()) {
      throw new IOException("memory image header gives length " + length + ", beyond its VDI");
    }
    return length;
  }

  /**
   * Unblocks a side still waiting to open the FIFO (when QEMU failed before opening its end):
   * opening it read-write never blocks and satisfies the other side's open, which then sees EOF.
   */
  static void release(Path fifo) {
    try (var ch =
        java.nio.channels.FileChannel.open(
            fifo, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
      // opened and closed: a waiting reader gets EOF, a waiting writer a broken pipe
    } catch (IOException e) {
      // the FIFO is gone: nobody waits on it
    }
  }

  private static java.util.concurrent.Executor daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      t.start();
    };
  }
}
