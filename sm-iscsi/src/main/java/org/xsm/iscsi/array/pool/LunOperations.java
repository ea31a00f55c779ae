package org.xsm.iscsi.array.pool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.xsm.iscsi.array.ArrayException;
import org.xsm.iscsi.array.ArrayException.Kind;

/**
 * The LUN lifecycle on a {@link BlockPool}. Every operation is journalled and fsynced before it
 * returns (after a full flush of the data written before it), so a completed control call survives
 * a crash. Snapshot and clone copy the block map only. Thread-safe: locks the pool.
 */
public final class LunOperations {
  /** Largest LUN: block numbers per LUN are ints. */
  public static final long MAX_SIZE_BYTES = (long) Integer.MAX_VALUE * BlockPool.BLOCK_SIZE;

  private static final int MAX_TEXT = 8192;
  private final BlockPool pool;

  LunOperations(BlockPool pool) {
    this.pool = pool;
  }

  /** Creates an empty (all zeros, no space used) LUN. Size is rounded up to 512 bytes. */
  public LunInfo create(String name, long sizeBytes, Map<String, String> metadata) {
    checkText(name, metadata);
    long size = checkSize(sizeBytes);
    synchronized (pool) {
      PoolState s = pool.state;
      Lun lun = newLun(name, s.nextLunNumber, size, false, null, null, metadata);
      log(Records.CREATE, Records.encode(lun::writeDescriptor));
      s.addLun(lun);
      return lun.info(s.blockSize);
    }
  }

  /** Deletes a LUN; snapshots and clones of it keep their (shared, refcounted) blocks. */
  public void delete(String id) {
    synchronized (pool) {
      Lun lun = get(id);
      log(Records.DELETE, Records.encode(out -> out.writeUTF(id)));
      pool.state.removeLun(lun, pool::released);
    }
  }

  /** Grows a LUN; the new range reads as zeros. Shrinking is refused (BAD_REQUEST). */
  public LunInfo resize(String id, long sizeBytes) {
    long size = checkSize(sizeBytes);
    synchronized (pool) {
      Lun lun = get(id);
      if (size < lun.sizeBytes) {
        throw new ArrayException(
            Kind.BAD_REQUEST,
            "LUN "
                + id
                + " is "
                + lun.sizeBytes
                + " bytes; shrinking to "
                + size
                + " is not supported");
      }
      log(
          Records.RESIZE,
          Records.encode(
              out -> {
                out.writeUTF(id);
                out.writeLong(size);
              }));
      pool.state.resize(lun, size);
      return lun.info(pool.state.blockSize);
    }
  }

  /** A read-only point-in-time copy sharing every block. */
  public LunInfo snapshot(String id, String name, Map<String, String> metadata) {
    return copy(id, name, metadata, true);
  }

  /** A writable copy sharing every block until written. */
  public LunInfo clone(String id, String name, Map<String, String> metadata) {
    return copy(id, name, metadata, false);
  }

  private LunInfo copy(String id, String name, Map<String, String> metadata, boolean snapshot) {
    checkText(name, metadata);
    synchronized (pool) {
      PoolState s = pool.state;
      Lun src = get(id);
      Lun lun =
          newLun(
              name,
              s.nextLunNumber,
              src.sizeBytes,
              snapshot,
              snapshot ? id : null,
              snapshot ? null : id,
              metadata);
      log(
          Records.COPY,
          Records.encode(
              out -> {
                lun.writeDescriptor(out);
                out.writeUTF(id);
              }));
      s.copyOf(src, lun);
      return lun.info(s.blockSize);
    }
  }

  /** Replaces a LUN's metadata map. */
  public LunInfo setMetadata(String id, Map<String, String> metadata) {
    checkText("", metadata);
    synchronized (pool) {
      Lun lun = get(id);
      log(
          Records.SET_METADATA,
          Records.encode(
              out -> {
                out.writeUTF(id);
                Lun.writeMap(out, metadata);
              }));
      lun.metadata = new java.util.LinkedHashMap<>(metadata);
      return lun.info(pool.state.blockSize);
    }
  }

  public LunInfo info(String id) {
    synchronized (pool) {
      return get(id).info(pool.state.blockSize);
    }
  }

  /** All LUNs, by LUN number. */
  public List<LunInfo> list() {
    synchronized (pool) {
      List<LunInfo> out = new ArrayList<>();
      for (Lun l : pool.state.byNumber.values()) {
        out.add(l.info(pool.state.blockSize));
      }
      return out;
    }
  }

  /** The LUN with SCSI number {@code number}, or null. */
  public LunInfo byNumberOrNull(int number) {
    synchronized (pool) {
      Lun l = pool.state.byNumber.get(number);
      return l == null ? null : l.info(pool.state.blockSize);
    }
  }

  Lun byNumber(int number) {
    Lun l = pool.state.byNumber.get(number);
    if (l == null) {
      throw new ArrayException(Kind.NOT_FOUND, "no LUN number " + number);
    }
    return l;
  }

  private Lun get(String id) {
    Lun l = pool.state.luns.get(id);
    if (l == null) {
      throw new ArrayException(Kind.NOT_FOUND, "no LUN with id " + id);
    }
    return l;
  }

  private Lun newLun(
      String name,
      int number,
      long size,
      boolean ro,
      String snapOf,
      String cloneOf,
      Map<String, String> meta) {
    if (number > 16383) {
      throw new ArrayException(Kind.NO_SPACE, "the target has used all 16384 LUN numbers");
    }
    return new Lun(
        UUID.randomUUID().toString(),
        name,
        number,
        size,
        ro,
        snapOf,
        cloneOf,
        Instant.now().truncatedTo(ChronoUnit.MILLIS),
        meta == null ? Map.of() : meta,
        pool.state.blockSize);
  }

  private void log(byte type, byte[] payload) {
    try {
      pool.logDurably(type, payload);
    } catch (IOException e) {
      throw new UncheckedIOException("journal write failed in " + pool.dir, e);
    }
  }

  private static long checkSize(long sizeBytes) {
    if (sizeBytes <= 0 || sizeBytes > MAX_SIZE_BYTES) {
      throw new ArrayException(
          Kind.BAD_REQUEST,
          "sizeBytes must be between 1 and " + MAX_SIZE_BYTES + ", got " + sizeBytes);
    }
    return (sizeBytes + 511) / 512 * 512;
  }

  private static void checkText(String name, Map<String, String> metadata) {
    if (name == null || name.length() > MAX_TEXT) {
      throw new ArrayException(
          Kind.BAD_REQUEST, "name is required (at most " + MAX_TEXT + " characters)");
    }
    if (metadata != null) {
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        if (e.getKey() == null
            || e.getValue() == null
            || e.getKey().length() > MAX_TEXT
            || e.getValue().length() > MAX_TEXT) {
          throw new ArrayException(
              Kind.BAD_REQUEST,
              "metadata keys and values must be strings of at most " + MAX_TEXT + " characters");
        }
      }
    }
  }
}
