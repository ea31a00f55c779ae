package org.xsm.server.transfer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Optional;
import java.util.UUID;
import java.util.function.LongConsumer;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.plugins.qcow2.Qcow2;
import org.xsm.plugins.qcow2.Qcow2Chain;
import org.xsm.plugins.qcow2.Qcow2FormatException;
import org.xsm.plugins.store.LocalImageStore;

/**
 * {@code format=qcow2} for the transfer routes: an uploaded qcow2 is spooled and validated whole
 * (the engine's open, its metadata check, the VDI's virtual size) before anything is written, then
 * the clusters it holds are written into the VDI, so a qcow2 with a backing file (an incremental
 * export) applied over a copy of its base gives the exported VDI; its backing file is not read. An
 * export is built as a qcow2 file in the spool directory (the VDI's allocated clusters, or with a
 * base the 2 MiB blocks that differ from it, over a backing file named {@code <base uuid>.qcow2}),
 * then sent with its length and deleted. Crash safety is {@link VdiImport}'s: the spool and its
 * redo record.
 */
final class Qcow2Transfer {
  private static final long OVERHEAD_BYTES = 64L * 1024 * 1024;
  private static final int CHUNK_BYTES = 2 * 1024 * 1024;

  private Qcow2Transfer() {}

  /** Spools an uploaded qcow2 and validates it: whole, consistent, of the VDI's virtual size. */
  static void spool(InputStream in, Path file, long sizeBytes, LongConsumer progress)
      throws IOException, TransferException {
    VdiImport.spool(in, file, sizeBytes + sizeBytes / 4096 + OVERHEAD_BYTES, progress);
    LocalImageStore store = LocalImageStore.open(file.getParent());
    String name = file.getFileName().toString();
    try (Qcow2Chain c = Qcow2Chain.openWithoutBacking(store, name)) {
      if (c.virtualSizeBytes() != sizeBytes) {
        throw TransferException.badInput(
            "wrong size: the qcow2's virtual size is "
                + c.virtualSizeBytes()
                + " bytes, the VDI's "
                + sizeBytes);
      }
      var problems = org.xsm.plugins.qcow2.Qcow2Check.check(c.leaf());
      if (!problems.errors().isEmpty()) {
        throw TransferException.badInput(
            "not a valid qcow2 (damaged or truncated): " + problems.errors().get(0));
      }
    } catch (Qcow2FormatException e) {
      throw TransferException.badInput(
          "not a valid qcow2 (truncated or malformed): " + e.getMessage());
    } catch (java.io.EOFException e) {
      throw TransferException.badInput("not a valid qcow2 (truncated): " + e.getMessage());
    }
  }

  /** Writes the clusters a spooled, validated qcow2 holds into the device. */
  static void apply(Path file, VdiDevice d, LongConsumer progress) throws IOException, SmException {
    LocalImageStore store = LocalImageStore.open(file.getParent());
    try (Qcow2Chain c = Qcow2Chain.openWithoutBacking(store, file.getFileName().toString())) {
      int cs = c.leaf().clusterSize();
      BitSet held = c.allocatedClusters();
      ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES);
      int i = held.nextSetBit(0);
      while (i >= 0) {
        int j = i;
        while (held.get(j + 1) && (long) (j + 2 - i) * cs <= CHUNK_BYTES) {
          j++;
        }
        long off = (long) i * cs;
        int len = (int) Math.min((long) (j - i + 1) * cs, d.sizeBytes() - off);
        buf.clear().limit(len);
        c.read(buf, off);
        buf.flip();
        d.write(buf, off);
        progress.accept(off + len);
        i = held.nextSetBit(j + 1);
      }
    }
    d.flush();
  }

  /**
   * Builds the export file: the device's allocated blocks, or with {@code base} the blocks that
   * differ from it, over a backing file {@code <baseUuid>.qcow2}. The caller sends and deletes it.
   */
  static Path build(
      VdiDevice d, VdiDevice base, Optional<String> baseUuid, Path dir, LongConsumer progress)
      throws IOException, SmException, TransferException {
    BitSet blocks = DeltaBlocks.allocated(d);
    if (base != null) {
      if (base.sizeBytes() != d.sizeBytes()) {
        throw TransferException.badInput(
            "base has "
                + base.sizeBytes()
                + " bytes, the VDI "
                + d.sizeBytes()
                + ": not a snapshot of it");
      }
      blocks = DeltaBlocks.differing(d, base, blocks, progress);
    }
    Files.createDirectories(dir);
    String name = UUID.randomUUID() + ".export.qcow2";
    LocalImageStore store = LocalImageStore.open(dir);
    long size = d.sizeBytes();
    if (base != null) {
      Qcow2.createOver(store, name, size, baseUuid.orElseThrow() + ".qcow2");
    } else {
      Qcow2.create(store, name, size);
    }
    Path file = dir.resolve(name);
    try (Qcow2Chain out = Qcow2Chain.openWithoutBacking(store, name, true)) {
      int cs = out.leaf().clusterSize();
      ByteBuffer buf = ByteBuffer.allocate(DeltaBlocks.BLOCK_BYTES);
      for (int b = blocks.nextSetBit(0); b >= 0; b = blocks.nextSetBit(b + 1)) {
        long off = (long) b * DeltaBlocks.BLOCK_BYTES;
        int len = (int) Math.min(DeltaBlocks.BLOCK_BYTES, size - off);
        buf.clear().limit(len);
        d.read(buf, off);
        for (int p = 0; p < len; p += cs) {
          int n = Math.min(cs, len - p);
          if (!allZero(buf.array(), p, n)) {
            out.write(ByteBuffer.wrap(buf.array(), p, n), off + p);
          } else if (base != null) {
            out.zero(off + p, n); // differs from the base: must read as zeros over it
          }
        }
        progress.accept(off + len);
      }
      out.flush();
    } catch (IOException | SmException | RuntimeException e) {
      Files.deleteIfExists(file);
      throw e;
    }
    return file;
  }

  private static boolean allZero(byte[] b, int from, int n) {
    for (int i = from; i < from + n; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
