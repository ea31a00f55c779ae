package org.xsm.iscsi.array.pool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A copy-on-write, deduplicating pool of fixed-size blocks in one data file ({@code pool.data}),
 * with metadata in memory made crash-safe by a {@link Journal} and {@link Checkpoint}s.
 *
 * <p>Writes never overwrite a block in place: each written LUN block gets the pool block that
 * already holds the same content (found by SHA-256 in the dedup index) or a free block, and the
 * LUN's map is switched to it. Snapshot and clone copy only the map. A block whose last reference
 * goes away is not reused until the journal record that released it is fsynced, so a crash never
 * finds an old map pointing at overwritten data.
 *
 * <p>Durability: {@link #flush} (SCSI SYNCHRONIZE CACHE, FUA, the background flusher, every control
 * operation) fsyncs the data file, appends a SYNC record and fsyncs the journal. Every write also
 * hands its data and record to the OS before it returns, so a killed process (not a power cut)
 * loses nothing that completed. After a power cut, blocks named only by records after the last SYNC
 * may hold other bytes than their hash says; recovery re-hashes them (see {@link PoolRecovery}).
 *
 * <p>Thread-safety: all methods are safe to call from any thread; one lock guards the pool.
 */
public final class BlockPool implements AutoCloseable {
  /** Pool block size: the dedup and copy-on-write unit. */
  public static final int BLOCK_SIZE = 4096;

  private static final byte[] ZEROS = new byte[BLOCK_SIZE];
  private static final long CHECKPOINT_AFTER_BYTES = 64L * 1024 * 1024;

  final Path dir;
  final PoolState state = new PoolState(BLOCK_SIZE);
  final FileChannel data;
  final Journal journal;
  private final FileChannel lockFile;
  private final FileLock lock;
  private final long capacityBlocks;
  private final MessageDigest sha256;
  private final byte[] scratch = new byte[BLOCK_SIZE];
  private final byte[] staging = new byte[256 * BLOCK_SIZE];
  private int stagedFirst;
  private int stagedBytes;
  // Blocks released by the write command in progress: its record is not in the journal yet, so
  // they may not even become pending (a sync inside the command would free them too early).
  private final IntStack releasedByCommand = new IntStack();
  private final IntStack free = new IntStack();
  // Released by journalled records not yet fsynced: reusable after the next sync.
  private final IntStack pending = new IntStack();
  private boolean dirty;
  final LunOperations operations;

  BlockPool(
      Path dir,
      long capacityBytes,
      FileChannel lockFile,
      FileLock lock,
      FileChannel data,
      Journal journal) {
    this.dir = dir;
    this.capacityBlocks = capacityBytes / BLOCK_SIZE;
    this.lockFile = lockFile;
    this.lock = lock;
    this.data = data;
    this.journal = journal;
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
    this.operations = new LunOperations(this);
  }

  /**
   * Opens (or creates) the pool in {@code dir}: loads the checkpoint, replays the journal and
   * re-checks blocks written after the last SYNC. Fails if another process has the pool open.
   */
  public static BlockPool open(Path dir, long capacityBytes) throws IOException {
    Files.createDirectories(dir);
    FileChannel lockFile =
        FileChannel.open(
            dir.resolve("pool.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock = lockFile.tryLock();
    if (lock == null) {
      lockFile.close();
      throw new IOException("pool " + dir + " is in use by another process");
    }
    FileChannel data =
        FileChannel.open(
            dir.resolve("pool.data"),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    Journal journal = Journal.open(dir.resolve("pool.journal"));
    BlockPool pool = new BlockPool(dir, capacityBytes, lockFile, lock, data, journal);
    try {
      synchronized (pool) {
        PoolRecovery.recover(pool);
        pool.rebuildFreeList();
      }
    } catch (IOException | RuntimeException e) {
      pool.abandon(); // release the files and the lock: a later open may be after a repair
      throw e;
    }
    return pool;
  }

  /** The LUN lifecycle (create, delete, resize, snapshot, clone, list). */
  public LunOperations luns() {
    return operations;
  }

  /** Reads {@code len} bytes at {@code offset} of LUN number {@code lun}. */
  public synchronized void read(int lun, long offset, byte[] dst, int dstOff, int len)
      throws IOException {
    Lun l = operations.byNumber(lun);
    checkRange(l, offset, len);
    while (len > 0) {
      int idx = (int) (offset / BLOCK_SIZE);
      int in = (int) (offset % BLOCK_SIZE);
      int n = Math.min(len, BLOCK_SIZE - in);
      int b = l.map.get(idx);
      if (b == Lun.ZERO) {
        Arrays.fill(dst, dstOff, dstOff + n, (byte) 0);
      } else {
        readFully(ByteBuffer.wrap(dst, dstOff, n), (long) b * BLOCK_SIZE + in);
      }
      offset += n;
      dstOff += n;
      len -= n;
    }
  }

  /**
   * Writes {@code len} bytes at {@code offset} of LUN number {@code lun}; {@code src} null writes
   * zeros (which frees the blocks fully covered). Copy-on-write and dedup per block, see the class
   * comment. The data and journal record reach the OS before this returns.
   */
  public void write(int lun, long offset, byte[] src, int srcOff, int len) throws IOException {
    // Hashing is the costly part of a large write and needs no pool state: do it first, outside
    // the lock and on several cores.
    BlockHashes pre = src == null ? null : BlockHashes.of(offset, src, srcOff, len, BLOCK_SIZE);
    writeLocked(lun, offset, src, srcOff, len, pre);
  }

  private synchronized void writeLocked(
      int lun, long offset, byte[] src, int srcOff, int len, BlockHashes pre) throws IOException {
    Lun l = operations.byNumber(lun);
    checkRange(l, offset, len);
    if (l.readOnly) {
      throw new ReadOnlyException("LUN " + l.number + " (" + l.id + ") is read-only");
    }
    int first = (int) (offset / BLOCK_SIZE);
    int last = (int) ((offset + len - 1) / BLOCK_SIZE);
    int count = len == 0 ? 0 : last - first + 1;
    ByteBuffer rec = ByteBuffer.allocate(12 + count * (4 + PoolState.HASH_BYTES));
    rec.putInt(l.number).putInt(first).putInt(count);
    int idx = first;
    try {
      for (; idx < first + count; idx++) {
        long blockStart = (long) idx * BLOCK_SIZE;
        int in = (int) Math.max(0, offset - blockStart);
        int n = (int) Math.min(BLOCK_SIZE - in, offset + len - (blockStart + in));
        byte[] content;
        int contentOff;
        if (n == BLOCK_SIZE && src != null) {
          content = src;
          contentOff = srcOff + (int) (blockStart - offset);
        } else {
          int old = l.map.get(idx);
          if (old == Lun.ZERO) {
            Arrays.fill(scratch, (byte) 0);
          } else {
            readFully(ByteBuffer.wrap(scratch), (long) old * BLOCK_SIZE);
          }
          if (src == null) {
            Arrays.fill(scratch, in, in + n, (byte) 0);
          } else {
            System.arraycopy(src, srcOff + (int) (blockStart + in - offset), scratch, in, n);
          }
          content = scratch;
          contentOff = 0;
        }
        int block =
            pre != null && content == src
                ? storeHashed(content, contentOff, pre, idx - first, rec)
                : store(content, contentOff, rec);
        state.map(l, idx, block, block == Lun.ZERO ? null : hashBuf, releasedByCommand::push);
      }
    } finally {
      // Also when the pool ran out of space part way: the record then says how many blocks
      // were switched, so the journal always describes the maps in memory.
      commitWrite(rec, idx - first);
    }
  }

  private void commitWrite(ByteBuffer rec, int done) throws IOException {
    rec.putInt(8, done);
    writeStaged();
    journal.append(Records.WRITE, rec.array(), rec.position());
    journal.writeOut();
    releasedByCommand.drainTo(pending); // the record releasing them is in the journal now
    dirty = true;
  }

  /** Writes zeros over a range of any length: the blocks fully inside it stop using space. */
  public synchronized void zero(int lun, long offset, long len) throws IOException {
    checkRange(operations.byNumber(lun), offset, len);
    long chunk = 256L * 1024 * 1024;
    for (long done = 0; done < len; done += chunk) {
      write(lun, offset + done, null, 0, (int) Math.min(chunk, len - done));
    }
  }

  /** A run of LUN bytes that are all mapped to pool blocks or all unmapped (read as zeros). */
  public record Extent(long lengthBytes, boolean mapped) {}

  /** The run of equally provisioned pool blocks starting at the block holding {@code offset}. */
  public synchronized Extent extent(int lun, long offset) {
    Lun l = operations.byNumber(lun);
    checkRange(l, offset, 0);
    int idx = (int) (offset / BLOCK_SIZE);
    boolean mapped = l.map.get(idx) != Lun.ZERO;
    int end = l.map.runEnd(idx, mapped);
    long runEnd = Math.min((long) end * BLOCK_SIZE, l.sizeBytes);
    return new Extent(runEnd - offset, mapped);
  }

  private final byte[] hashBuf = new byte[PoolState.HASH_BYTES];

  // Finds or allocates the pool block for one block of content; appends it to the record.
  private int store(byte[] content, int off, ByteBuffer rec) throws IOException {
    if (Arrays.mismatch(content, off, off + BLOCK_SIZE, ZEROS, 0, BLOCK_SIZE) == -1) {
      rec.putInt(Lun.ZERO);
      return Lun.ZERO;
    }
    sha256.update(content, off, BLOCK_SIZE);
    try {
      sha256.digest(hashBuf, 0, PoolState.HASH_BYTES);
    } catch (java.security.DigestException e) {
      throw new IllegalStateException(e);
    }
    return storeWithHash(content, off, rec);
  }

  // A full block hashed before the lock was taken.
  private int storeHashed(byte[] content, int off, BlockHashes pre, int i, ByteBuffer rec)
      throws IOException {
    if (pre.zero(i)) {
      rec.putInt(Lun.ZERO);
      return Lun.ZERO;
    }
    pre.copyHash(i, hashBuf);
    return storeWithHash(content, off, rec);
  }

  private int storeWithHash(byte[] content, int off, ByteBuffer rec) throws IOException {
    int block = state.findDuplicate(hashBuf);
    if (block < 0) {
      block = allocate();
      stage(block, content, off);
    }
    rec.putInt(block).put(hashBuf);
    return block;
  }

  // New blocks of one command are mostly consecutive: gather them into one write.
  private void stage(int block, byte[] content, int off) throws IOException {
    if (stagedBytes > 0
        && (block != stagedFirst + stagedBytes / BLOCK_SIZE || stagedBytes == staging.length)) {
      writeStaged();
    }
    if (stagedBytes == 0) {
      stagedFirst = block;
    }
    System.arraycopy(content, off, staging, stagedBytes, BLOCK_SIZE);
    stagedBytes += BLOCK_SIZE;
  }

  private void writeStaged() throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(staging, 0, stagedBytes);
    long pos = (long) stagedFirst * BLOCK_SIZE;
    while (buf.hasRemaining()) {
      pos += data.write(buf, pos);
    }
    stagedBytes = 0;
  }

  private int allocate() throws IOException {
    if (free.isEmpty() && state.highWater >= capacityBlocks && !pending.isEmpty()) {
      writeStaged();
      flush();
    }
    if (!free.isEmpty()) {
      return free.pop();
    }
    if (state.highWater >= capacityBlocks) {
      throw new NoSpaceException("pool " + dir + " is full (" + capacityBlocks + " blocks)");
    }
    int b = state.highWater;
    state.ensureCapacity(b + 1);
    return b;
  }

  void released(int block) {
    pending.push(block);
  }

  /**
   * Makes everything written so far durable: fsync data, append SYNC, fsync the journal; then frees
   * blocks released by now-durable records, and checkpoints if the journal grew large.
   */
  public synchronized void flush() throws IOException {
    if (dirty || !pending.isEmpty()) {
      sync(null);
    }
    if (journal.size() > CHECKPOINT_AFTER_BYTES) {
      checkpoint();
    }
  }

  /** Flushes, writes a checkpoint and empties the journal. */
  public synchronized void checkpoint() throws IOException {
    sync(null);
    Checkpoint.write(dir, state, journal.nextSeq());
    journal.reset();
  }

  /** Appends a control record and makes it durable (with everything before it). */
  void logDurably(byte type, byte[] payload) throws IOException {
    sync(new Records.Record(type, payload));
  }

  // Data first, then the SYNC record that vouches for it, then blocks released by now-durable
  // records become reusable.
  private void sync(Records.Record control) throws IOException {
    data.force(false);
    if (control != null) {
      journal.append(control.type(), control.payload(), control.payload().length);
    }
    journal.append(Records.SYNC, new byte[0], 0);
    journal.force();
    dirty = false;
    pending.drainTo(free);
  }

  /** Space accounting. */
  public synchronized PoolStats stats() {
    long physical = (state.usedBlocks + pending.size()) * BLOCK_SIZE;
    long logical = state.logicalBlocks * BLOCK_SIZE;
    long capacity = capacityBlocks * BLOCK_SIZE;
    double ratio = physical == 0 ? 1.0 : (double) logical / physical;
    return new PoolStats(
        BLOCK_SIZE, capacity, physical, capacity - physical, logical, ratio, state.luns.size());
  }

  /** Length of the data file (its high-water mark; freed blocks inside it are reused first). */
  public synchronized long dataFileBytes() throws IOException {
    return data.size();
  }

  @Override
  public synchronized void close() throws IOException {
    try {
      checkpoint();
    } finally {
      data.close();
      journal.close();
      lock.release();
      lockFile.close();
    }
  }

  /** Closes without flushing or checkpointing, as a crash would (for tests). */
  synchronized void abandon() throws IOException {
    data.close();
    journal.close();
    lock.release();
    lockFile.close();
  }

  void rebuildFreeList() {
    free.clear();
    for (int b = state.highWater - 1; b >= 0; b--) {
      if (state.refs[b] == 0) {
        free.push(b);
      }
    }
  }

  static void checkRange(Lun l, long offset, long len) {
    if (offset < 0 || len < 0 || offset + len > l.sizeBytes) {
      throw new OutOfRangeException(
          "range "
              + offset
              + "+"
              + len
              + " is outside LUN "
              + l.number
              + " of "
              + l.sizeBytes
              + " bytes");
    }
  }

  void readFully(ByteBuffer dst, long pos) throws IOException {
    while (dst.hasRemaining()) {
      int n = data.read(dst, pos);
      if (n < 0) {
        // Spec deviation from a plain file: a block past the end was allocated but its write
        // never reached the file (a crash); it reads as zeros.
        while (dst.hasRemaining()) {
          dst.put((byte) 0);
        }
        return;
      }
      pos += n;
    }
  }
}
