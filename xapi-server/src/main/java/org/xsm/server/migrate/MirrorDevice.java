package org.xsm.server.migrate;

import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.concurrent.locks.ReentrantLock;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;

/**
 * A disk being moved while its guest runs: reads come from the source, every write goes to the
 * source and to the destination, and {@link #copy} moves one block from the source to the
 * destination. A block's copy and a write touching it exclude each other (a lock per block, taken
 * in ascending order), so a copy can never put back older bytes over a newer mirrored write: either
 * the write comes after the copy (and lands on both), or the copy reads what the write left.
 *
 * <p>When every block has been copied once, the destination holds the source's bytes, and keeps
 * holding them while writes go on, until the switch (under the guest's I/O hold) hands the guest
 * the destination alone.
 */
final class MirrorDevice implements VdiDevice {
  private static final int STRIPES = 1024;

  private final VdiDevice source;
  private final VdiDevice destination;
  private final int blockBytes;
  private final ReentrantLock[] locks = new ReentrantLock[STRIPES];

  MirrorDevice(VdiDevice source, VdiDevice destination, int blockBytes) {
    if (destination.sizeBytes() < source.sizeBytes()) {
      throw new IllegalArgumentException("the destination is smaller than the source");
    }
    this.source = source;
    this.destination = destination;
    this.blockBytes = blockBytes;
    for (int i = 0; i < STRIPES; i++) {
      locks[i] = new ReentrantLock();
    }
  }

  private ReentrantLock lock(long block) {
    return locks[(int) (block % STRIPES)];
  }

  /** Locks the stripes of blocks {@code first..last}, each once, in ascending stripe order. */
  private BitSet lockRange(long first, long last) {
    BitSet stripes = new BitSet(STRIPES);
    for (long b = first; b <= last && stripes.cardinality() < STRIPES; b++) {
      stripes.set((int) (b % STRIPES));
    }
    for (int s = stripes.nextSetBit(0); s >= 0; s = stripes.nextSetBit(s + 1)) {
      locks[s].lock();
    }
    return stripes;
  }

  private void unlock(BitSet stripes) {
    for (int s = stripes.nextSetBit(0); s >= 0; s = stripes.nextSetBit(s + 1)) {
      locks[s].unlock();
    }
  }

  @Override
  public long sizeBytes() {
    return source.sizeBytes();
  }

  @Override
  public boolean readOnly() {
    return source.readOnly();
  }

  @Override
  public void read(ByteBuffer dst, long offsetBytes) throws SmException {
    source.read(dst, offsetBytes);
  }

  @Override
  public void write(ByteBuffer src, long offsetBytes) throws SmException {
    int len = src.remaining();
    if (len == 0) {
      source.write(src, offsetBytes);
      return;
    }
    BitSet held = lockRange(offsetBytes / blockBytes, (offsetBytes + len - 1) / blockBytes);
    try {
      ByteBuffer copy = src.duplicate();
      source.write(src, offsetBytes);
      destination.write(copy, offsetBytes);
    } finally {
      unlock(held);
    }
  }

  @Override
  public void flush() throws SmException {
    source.flush();
    destination.flush();
  }

  @Override
  public int allocationBlockSizeBytes() {
    return source.allocationBlockSizeBytes();
  }

  @Override
  public BitSet allocatedBlocks() throws SmException {
    return source.allocatedBlocks();
  }

  /** Copies block {@code block} from the source to the destination, excluding writes to it. */
  void copy(long block, ByteBuffer buffer) throws SmException {
    long off = block * blockBytes;
    int len = (int) Math.min(blockBytes, source.sizeBytes() - off);
    if (len <= 0) {
      return;
    }
    ReentrantLock l = lock(block);
    l.lock();
    try {
      buffer.clear().limit(len);
      source.read(buffer, off);
      buffer.flip();
      destination.write(buffer, off);
    } finally {
      l.unlock();
    }
  }
}
