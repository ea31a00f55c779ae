package org.xsm.iscsi.array.pool;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.BitSet;

/**
 * Brings a {@link BlockPool} back after a stop or crash: checkpoint, then journal replay through
 * the same {@link PoolState} methods the live pool uses, then the unsynced-block check.
 *
 * <p>The unsynced-block check: a WRITE record can reach the disk before the data block it names
 * (the OS writes back the two files in any order), so after a power cut a block named only by
 * records after the last SYNC may not hold the content its hash says. Such a write was never
 * acknowledged, so any content is allowed for it, but the dedup index must not promise the hash's
 * content to later writes: each such block is re-hashed and re-indexed by what it holds.
 */
final class PoolRecovery {
  private PoolRecovery() {}

  static void recover(BlockPool pool) throws IOException {
    PoolState s = pool.state;
    long fromSeq = Checkpoint.read(pool.dir, s);
    reindexAll(s);
    BitSet unsynced = new BitSet();
    pool.journal.replay(fromSeq, e -> apply(s, e, unsynced));
    recheck(pool, unsynced);
  }

  private static void reindexAll(PoolState s) {
    for (int b = 0; b < s.highWater; b++) {
      if (s.refs[b] > 0) {
        s.index.putIfAbsent(PoolState.key(s.hashes, b * PoolState.HASH_BYTES), b);
      }
    }
  }

  private static void apply(PoolState s, Journal.Entry e, BitSet unsynced) throws IOException {
    PoolState.FreedBlocks ignore = b -> {};
    ByteBuffer p = e.payload();
    switch (e.type()) {
      case Records.CREATE -> s.addLun(Lun.readDescriptor(in(p), s.blockSize));
      case Records.DELETE -> s.removeLun(lun(s, in(p).readUTF(), e), ignore);
      case Records.RESIZE -> {
        DataInputStream in = in(p);
        Lun lun = lun(s, in.readUTF(), e);
        s.resize(lun, in.readLong());
      }
      case Records.SET_METADATA -> {
        DataInputStream in = in(p);
        Lun lun = lun(s, in.readUTF(), e);
        lun.metadata = Lun.readMap(in);
      }
      case Records.COPY -> {
        DataInputStream in = in(p);
        Lun fresh = Lun.readDescriptor(in, s.blockSize);
        s.copyOf(lun(s, in.readUTF(), e), fresh);
      }
      case Records.WRITE -> {
        Lun lun = s.byNumber.get(p.getInt());
        int first = p.getInt();
        int count = p.getInt();
        if (lun == null || first < 0 || first + count > lun.map.length()) {
          throw new IOException("journal record " + e.seq() + " writes outside any LUN");
        }
        byte[] hash = new byte[PoolState.HASH_BYTES];
        for (int i = 0; i < count; i++) {
          int block = p.getInt();
          if (block != Lun.ZERO) {
            p.get(hash);
            s.ensureCapacity(block + 1);
            unsynced.set(block);
          }
          s.map(lun, first + i, block, block == Lun.ZERO ? null : hash, ignore);
        }
      }
      case Records.DATA_DESTROY -> {
        DataInputStream in = in(p);
        Lun lun = lun(s, in.readUTF(), e);
        if (in.readBoolean()) {
          lun.metadata = Lun.readMap(in);
        }
        if (lun.digests == null) { // a second destroy only replaces the metadata
          s.dataDestroy(lun, null, ignore);
        }
      }
      case Records.SYNC -> unsynced.clear();
      default ->
          throw new IOException("journal record " + e.seq() + " has unknown type " + e.type());
    }
  }

  private static void recheck(BlockPool pool, BitSet unsynced) throws IOException {
    PoolState s = pool.state;
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buf = new byte[BlockPool.BLOCK_SIZE];
    for (int b = unsynced.nextSetBit(0); b >= 0; b = unsynced.nextSetBit(b + 1)) {
      if (s.refs[b] == 0) {
        continue;
      }
      pool.readFully(ByteBuffer.wrap(buf), (long) b * BlockPool.BLOCK_SIZE);
      byte[] actual = sha.digest(buf);
      if (!Arrays.equals(actual, s.hashOf(b))) {
        s.unindex(b);
        System.arraycopy(actual, 0, s.hashes, b * PoolState.HASH_BYTES, PoolState.HASH_BYTES);
        s.index.putIfAbsent(PoolState.key(actual, 0), b);
      }
    }
  }

  private static Lun lun(PoolState s, String id, Journal.Entry e) throws IOException {
    Lun l = s.luns.get(id);
    if (l == null) {
      throw new IOException("journal record " + e.seq() + " names unknown LUN " + id);
    }
    return l;
  }

  private static DataInputStream in(ByteBuffer p) {
    return new DataInputStream(
        new ByteArrayInputStream(p.array(), p.arrayOffset() + p.position(), p.remaining()));
  }
}
