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
 *
 * <p>Changed blocks and data destroy: {@link #changedBlocks} compares two LUNs' maps (or content
 * digests, see {@link LunDiff}); {@link #dataDestroy} releases a snapshot's blocks and keeps only
 * its digests, so it can still be the earlier side of a changed-block query.
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
      Lun lun = withData(id, "resized");
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
      Lun src = withData(id, snapshot ? "snapshotted" : "cloned");
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

  /**
   * Destroys the data of a snapshot (read-only LUN): its blocks are released (their space comes
   * back once no other LUN shares them), and it keeps its descriptor and the content digests that
   * {@link #changedBlocks} needs. It leaves the target (commands to its LUN number fail as for a
   * LUN that does not exist) and can no longer be resized, snapshotted or cloned; it can still be
   * deleted and have its metadata replaced. {@code metadata}, if not null, replaces the LUN's
   * metadata in the same journal record. Destroying a LUN whose data is gone changes only the
   * metadata.
   *
   * <p>The digests are computed in slices, each under the pool lock (I/O waits for one slice at
   * most): a read-only LUN's map and the hashes of the blocks it holds do not change, so the slices
   * add up to its content. The journal record and the release of the blocks then happen at once,
   * after checking that the LUN was neither deleted, destroyed nor resized meanwhile (CONFLICT if
   * it was, with nothing changed).
   */
  public LunInfo dataDestroy(String id, Map<String, String> metadata) {
    if (metadata != null) {
      checkText("", metadata);
    }
    Lun lun;
    int blocks;
    boolean gone;
    synchronized (pool) {
      lun = get(id);
      if (!lun.readOnly) {
        throw new ArrayException(
            Kind.BAD_REQUEST,
            "LUN "
                + id
                + " is writable; only the data of a snapshot (read-only LUN) can be destroyed");
      }
      blocks = lun.map.length();
      gone = lun.digests != null;
    }
    GranuleDigests digests = gone ? null : GranuleDigests.empty(blocks);
    GranuleDigests.Hasher hasher = new GranuleDigests.Hasher();
    for (int g = 0; digests != null && g < digests.granules(); g += LunDiff.SLICE_GRANULES) {
      synchronized (pool) {
        unchanged(id, lun, blocks);
        digests.compute(
            lun.map,
            pool.state,
            g,
            Math.min(digests.granules(), g + LunDiff.SLICE_GRANULES),
            hasher);
      }
    }
    synchronized (pool) {
      unchanged(id, lun, blocks);
      if (digests != null && lun.digests != null) {
        throw new ArrayException(Kind.CONFLICT, "LUN " + id + "'s data was destroyed meanwhile");
      }
      log(
          Records.DATA_DESTROY,
          Records.encode(
              out -> {
                out.writeUTF(id);
                out.writeBoolean(metadata != null);
                if (metadata != null) {
                  Lun.writeMap(out, metadata);
                }
              }));
      if (metadata != null) {
        lun.metadata = new java.util.LinkedHashMap<>(metadata);
      }
      if (digests != null) {
        pool.state.dataDestroy(lun, digests, pool::released);
      }
      return lun.info(pool.state.blockSize);
    }
  }

  private void unchanged(String id, Lun lun, int blocks) {
    if (pool.state.luns.get(id) != lun || lun.map.length() != blocks) {
      throw new ArrayException(
          Kind.CONFLICT, "LUN " + id + " was deleted or resized during its data destroy");
    }
  }

  /**
   * The 64 KiB granules whose content differs from LUN {@code fromId} to LUN {@code id} (see {@link
   * LunDiff} for why the answer never misses a change). Either may have had its data destroyed.
   * Reads metadata only: a pass over both maps, or hashing of the granules' block hashes when one
   * side's data was destroyed; in slices of 256 MiB of LUN, each under the pool lock. NOT_FOUND if
   * either LUN is deleted before the answer is complete.
   */
  public BlockDiff changedBlocks(String id, String fromId) {
    long size;
    synchronized (pool) {
      get(fromId);
      size = get(id).sizeBytes;
    }
    int granules = LunDiff.granules(size, pool.state.blockSize);
    java.util.BitSet changed = new java.util.BitSet(granules);
    GranuleDigests.Hasher hasher = new GranuleDigests.Hasher();
    for (int slice = 0; (long) slice * LunDiff.SLICE_GRANULES < granules; slice++) {
      synchronized (pool) {
        LunDiff.slice(pool.state, get(fromId), get(id), slice, granules, changed, hasher);
      }
    }
    return new BlockDiff(GranuleDigests.GRANULE_BYTES, size, changed);
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

  /** The LUN with SCSI number {@code number}, or null (also if its data was destroyed). */
  public LunInfo byNumberOrNull(int number) {
    synchronized (pool) {
      Lun l = pool.state.byNumber.get(number);
      return l == null || l.digests != null ? null : l.info(pool.state.blockSize);
    }
  }

  /** The LUN with SCSI number {@code number} that still has its data, else NOT_FOUND. */
  Lun byNumber(int number) {
    Lun l = pool.state.byNumber.get(number);
    if (l == null || l.digests != null) {
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

  private Lun withData(String id, String what) {
    Lun l = get(id);
    if (l.digests != null) {
      throw new ArrayException(
          Kind.BAD_REQUEST, "LUN " + id + " cannot be " + what + ": its data was destroyed");
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
