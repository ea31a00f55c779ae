package org.xsm.server.domain.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;
import org.xsm.api.VdiDevice;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.qemu.Qmp.QmpException;

/**
 * A domain's memory saved into, or restored from, a suspend VDI: QEMU's migration stream through a
 * FIFO ({@link MemoryStream}). The end of the stream is QEMU's {@code MIGRATION} event.
 */
final class QemuMemoryImage {
  private static final Logger LOG = Logger.getLogger(QemuMemoryImage.class);

  private QemuMemoryImage() {}

  /** Upper bound of an image's bytes for a domain of {@code spec}. */
  static long bytes(DomainSpec spec) {
    long mib = 1 << 20;
    long bytes = MemoryStream.HEADER_BYTES + spec.memoryBytes() + 64 * mib; // + device state
    return (bytes + mib - 1) / mib * mib;
  }

  /** Feeds the image to a QEMU started with {@code -incoming defer}; returns once it is loaded. */
  static void restore(QemuProcess q, VdiDevice image) throws IOException, QmpException {
    MemoryStream.makeFifo(q.paths.memoryFifo());
    CompletableFuture<Long> feed = MemoryStream.fromVdi(image, q.paths.memoryFifo());
    try {
      QemuMigration.capabilities(q, Map.of("events", true));
      CompletableFuture<String> end = q.watchMigration();
      q.execute("migrate-incoming", Map.of("uri", "exec:cat " + q.paths.memoryFifo()));
      completed(q, end);
      feed.get(QemuMigration.MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException("restoring memory: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted restoring memory", e);
    } finally {
      MemoryStream.release(q.paths.memoryFifo());
      Files.deleteIfExists(q.paths.memoryFifo());
    }
  }

  /** Writes the memory of a paused domain into {@code image}, flushed when this returns. */
  static void save(QemuProcess q, VdiDevice image)
      throws IOException, QmpException, ExecutionException, TimeoutException, InterruptedException {
    Path fifo = q.paths.memoryFifo();
    MemoryStream.makeFifo(fifo);
    CompletableFuture<Long> sink = MemoryStream.intoVdi(fifo, image);
    try {
      // A file has no return path (a failed live migration may have left it on).
      QemuMigration.capabilities(q, Map.of("events", true, "return-path", false));
      // QEMU limits migration to 32 MiB/s by default; the stream goes to a local disk.
      q.execute("migrate-set-parameters", Map.of("max-bandwidth", 10L << 30));
      CompletableFuture<String> end = q.watchMigration();
      q.execute("migrate", Map.of("uri", "exec:cat > " + fifo));
      completed(q, end);
      long bytes = sink.get(QemuMigration.MIGRATION_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      LOG.infof("VM %s: memory image of %d bytes saved", q.spec.vmUuid(), bytes);
    } finally {
      MemoryStream.release(fifo);
      Files.deleteIfExists(fifo);
    }
  }

  private static void completed(QemuProcess q, CompletableFuture<String> end)
      throws IOException, QmpException {
    String status = QemuMigration.awaitEnd(q, end, QemuMigration.MIGRATION_TIMEOUT);
    if (!status.equals("completed")) {
      throw new IOException(
          "migration "
              + status
              + ": "
              + q.execute("query-migrate", null).path("error-desc").asText());
    }
  }
}
