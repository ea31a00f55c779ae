package org.xsm.iscsi.array.pool;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The pool's checkpoint: a full image of {@link PoolState} (LUN descriptors and block maps, block
 * hashes) plus the journal seq it is current up to.
 *
 * <p>Layout: magic {@code XSMPOOL2}, int block size, long next journal seq, int next LUN number,
 * int high water, high-water x 32 hash bytes, int LUN count, per LUN its descriptor, a
 * data-destroyed flag, int map length and then either (data kept) per chunk of 64 Ki entries a
 * written flag and, if set, the entries, or (data destroyed) the {@link GranuleDigests}; then the
 * CRC32C of everything before it. A {@code XSMPOOL1} checkpoint (before data destroy existed) has
 * no flag and always a map; it is read as such and the next checkpoint is written as {@code
 * XSMPOOL2}.
 *
 * <p>Crash safety: written to {@code pool.ckpt.tmp}, fsynced, renamed over {@code pool.ckpt}
 * (atomic), then the directory is fsynced. A crash before the rename leaves the old checkpoint and
 * the full journal; after it, journal records below the new seq are skipped on replay, so emptying
 * the journal afterwards is safe at any point.
 */
final class Checkpoint {
  static final long MAGIC_V1 = 0x58534d504f4f4c31L; // "XSMPOOL1"
  static final long MAGIC = 0x58534d504f4f4c32L; // "XSMPOOL2"

  private Checkpoint() {}

  static void write(Path dir, PoolState s, long nextSeq) throws IOException {
    Path tmp = dir.resolve("pool.ckpt.tmp");
    CRC32C crc = new CRC32C();
    try (OutputStream fos = Files.newOutputStream(tmp);
        CheckedOutputStream cos =
            new CheckedOutputStream(new BufferedOutputStream(fos, 1 << 20), crc);
        DataOutputStream out = new DataOutputStream(cos)) {
      writeHead(out, MAGIC, s, nextSeq);
      for (Lun lun : s.allLuns()) {
        lun.writeDescriptor(out);
        out.writeBoolean(lun.digests != null);
        out.writeInt(lun.map.length());
        if (lun.digests != null) {
          lun.digests.write(out);
          continue;
        }
        for (int c = 0; c < lun.map.chunkCount(); c++) {
          int[] chunk = lun.map.chunk(c);
          out.writeBoolean(chunk != null);
          if (chunk != null) {
            for (int b : chunk) {
              out.writeInt(b);
            }
          }
        }
      }
      out.flush();
      new DataOutputStream(fos).writeInt((int) crc.getValue());
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, dir.resolve("pool.ckpt"), StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /**
   * Everything before the LUNs (the same in every version but for the magic), and the LUN count.
   */
  static void writeHead(DataOutput out, long magic, PoolState s, long nextSeq) throws IOException {
    out.writeLong(magic);
    out.writeInt(s.blockSize);
    out.writeLong(nextSeq);
    out.writeInt(s.nextLunNumber);
    out.writeInt(s.highWater);
    out.write(s.hashes, 0, s.highWater * PoolState.HASH_BYTES);
    out.writeInt(s.luns.size());
  }

  /** Loads the checkpoint into {@code s}; returns the journal seq to replay from (0 if none). */
  static long read(Path dir, PoolState s) throws IOException {
    Path file = dir.resolve("pool.ckpt");
    if (!Files.exists(file)) {
      return 0;
    }
    long size = Files.size(file);
    CRC32C crc = new CRC32C();
    try (InputStream fis = new BufferedInputStream(Files.newInputStream(file), 1 << 20);
        CheckedInputStream cis = new CheckedInputStream(fis, crc)) {
      DataInputStream in = new DataInputStream(cis);
      try {
        long magic = in.readLong();
        if (magic != MAGIC && magic != MAGIC_V1) {
          throw new IOException("not a pool checkpoint (bad magic): " + file);
        }
        int bs = in.readInt();
        if (bs != s.blockSize) {
          throw new IOException(
              "checkpoint " + file + " has block size " + bs + ", pool uses " + s.blockSize);
        }
        long nextSeq = in.readLong();
        s.nextLunNumber = in.readInt();
        int high = in.readInt();
        if (high < 0 || (long) high * PoolState.HASH_BYTES > size) {
          throw new IOException("checkpoint " + file + ": block count out of range: " + high);
        }
        s.ensureCapacity(high);
        in.readFully(s.hashes, 0, high * PoolState.HASH_BYTES);
        int count = in.readInt();
        for (int i = 0; i < count; i++) {
          Lun lun = Lun.readDescriptor(in, s.blockSize);
          boolean destroyed = magic == MAGIC && in.readBoolean();
          int len = in.readInt();
          if (len != lun.map.length()) {
            throw new IOException(
                "checkpoint "
                    + file
                    + ": LUN "
                    + lun.id
                    + " map has "
                    + len
                    + " entries, its size needs "
                    + lun.map.length());
          }
          if (destroyed) {
            try {
              lun.digests = GranuleDigests.read(in, GranuleDigests.granuleCount(len));
            } catch (IOException e) {
              throw new IOException("checkpoint " + file + ": LUN " + lun.id + ": " + e, e);
            }
          }
          for (int c = 0; c < lun.map.chunkCount() && !destroyed; c++) {
            if (in.readBoolean()) {
              int[] chunk = new int[BlockMap.CHUNK];
              for (int j = 0; j < chunk.length; j++) {
                int b = in.readInt();
                if (b != Lun.ZERO && (b < 0 || b >= high)) {
                  throw new IOException(
                      "checkpoint "
                          + file
                          + ": LUN "
                          + lun.id
                          + " maps block "
                          + ((long) c * BlockMap.CHUNK + j)
                          + " to "
                          + b
                          + ", pool has "
                          + high);
                }
                chunk[j] = b;
              }
              lun.map.setChunk(c, chunk);
            }
          }
          s.addLun(lun);
        }
        int computed = (int) crc.getValue();
        int stored = new DataInputStream(fis).readInt();
        if (stored != computed) {
          throw new IOException(
              String.format(
                  "checkpoint checksum mismatch in %s: stored 0x%08x, computed 0x%08x",
                  file, stored, computed));
        }
        return nextSeq;
      } catch (EOFException e) {
        throw new IOException("checkpoint " + file + " is truncated", e);
      }
    }
  }
}
