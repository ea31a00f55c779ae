package org.xsm.plugins.filesr;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongConsumer;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.qcow2.Qcow2Chain;
import org.xsm.plugins.store.DiskChain;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.IoActions;
import org.xsm.plugins.vhd.VhdChain;
import org.xsm.plugins.vhd.VhdImage;

/**
 * An active VDI of a VDI-tree SR: its image chain (VHD or qcow2) as a {@link VdiDevice}, with
 * changed-block tracking when the VDI has a CBT log.
 *
 * <p>VHD chains also keep their parents open across a snapshot's pause and lend their leaf image to
 * the collector's live leaf-coalesce ({@link #withLeaf}); qcow2 chains are reopened whole and are
 * not leaf-coalesced live.
 *
 * <p>Snapshot and clone {@link #pause()} the device: I/O waits, the chain is flushed and closed
 * (the leaf file is about to be renamed), the CBT log written back; {@link #resume()} opens the new
 * leaf of the same name. Reads and writes hold the read side of a lock, pause the write side.
 * Writes are serialized among themselves, so partial-sector writes, which read-modify-write a
 * sector, never interleave.
 *
 * <p>For the collector: every read and write is counted ({@code foreground}, which paces its
 * copies), a {@link LeafWriteTracker} set on the device hears of each write after it lands, and
 * {@link #withLeaf} lends the leaf image under the read lock, one short piece of work at a time.
 */
final class VhdVdiDevice implements VdiDevice, Pausable {
  private final ImageStore store;
  private final String uuid;
  private final ImageFormat format;
  private final boolean readOnly;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Object writeOrder = new Object();
  private DiskChain chain;

  /** Parents kept open across {@link #pauseKeepingParents()}, by file name; under the lock. */
  private Map<String, VhdImage> parked = new HashMap<>();

  private BitSet cbtChanged;
  private CbtLog cbtBase;
  private boolean closed;

  private final LongConsumer foreground;
  private volatile LeafWriteTracker tracker;

  private VhdVdiDevice(
      ImageStore store,
      String uuid,
      ImageFormat format,
      boolean readOnly,
      LongConsumer foreground) {
    this.store = store;
    this.uuid = uuid;
    this.format = format;
    this.readOnly = readOnly;
    this.foreground = foreground;
  }

  static VhdVdiDevice open(ImageStore store, VhdTree.Node n, boolean readOnly) throws IOException {
    return open(store, n, readOnly, b -> {});
  }

  /** Opens the device; {@code foreground} hears of the bytes of each read and write. */
  static VhdVdiDevice open(
      ImageStore store, VhdTree.Node n, boolean readOnly, LongConsumer foreground)
      throws IOException {
    VhdVdiDevice d = new VhdVdiDevice(store, n.uuid, n.format, readOnly, foreground);
    d.openChain();
    return d;
  }

  /** Sets (or, with null, removes) the tracker that hears of each write after it lands. */
  void track(LeafWriteTracker t) {
    synchronized (writeOrder) {
      tracker = t;
    }
  }

  /** What the collector does with the leaf image, under the device's read lock. */
  interface LeafWork<T> {
    T run(LeafImages.Leaf leaf) throws IOException;
  }

  /**
   * Runs {@code work} with the chain's leaf image, holding the read lock (I/O goes on, a pause
   * waits): keep it short. Writes racing with it may or may not be seen; a tracker records them.
   *
   * @throws IOException if the device is closed or paused-and-closed
   */
  <T> T withLeaf(LeafWork<T> work) throws IOException {
    lock.readLock().lock();
    try {
      return onLeaf(work);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** {@link #withLeaf} for the thread that holds the pause ({@link #pauseOpen}). */
  <T> T onLeaf(LeafWork<T> work) throws IOException {
    if (closed || chain == null) {
      throw new IOException("VDI " + uuid + " is not active");
    }
    if (chain instanceof VhdChain v) {
      return work.run(LeafImages.of(v.layers().get(0)));
    }
    return work.run(LeafImages.of(((Qcow2Chain) chain).leaf()));
  }

  private void openChain() throws IOException {
    LeafWriteTracker t = tracker;
    if (t != null) {
      t.disturb(); // a new chain: the collector's copy may no longer match it
    }
    Map<String, VhdImage> reuse = parked;
    parked = new HashMap<>();
    try {
      String file = VhdTree.fileOf(uuid, format);
      chain =
          format == ImageFormat.VHD
              ? VhdChain.open(store, file, !readOnly, reuse)
              : format.open(store, file, !readOnly);
    } finally {
      closeAll(reuse.values()); // the parents the new chain did not take
    }
    if (!readOnly) {
      cbtBase = CbtLog.read(store, uuid);
      if (cbtBase != null) {
        // Inconsistent while active: a crash before deactivation leaves the log marked so.
        cbtChanged = (BitSet) cbtBase.changed.clone();
        cbtBase.withConsistent(false).write(store, uuid);
      }
    }
  }

  private void closeChain() throws IOException {
    closeChain(false);
  }

  /** Closes the chain, or only its leaf if {@code keepParents} (they go to {@link #parked}). */
  private void closeChain(boolean keepParents) throws IOException {
    try {
      if (chain instanceof VhdChain v && keepParents) {
        parked = v.closeLeaf();
      } else if (chain != null) {
        chain.close();
      }
    } finally {
      chain = null;
    }
    writeCbt(true);
    cbtBase = null;
    cbtChanged = null;
  }

  private void writeCbt(boolean consistent) throws IOException {
    if (cbtBase != null) {
      new CbtLog(cbtBase.parent, chainSizeOr(cbtBase.virtualSizeBytes), consistent, cbtChanged)
          .write(store, uuid);
    }
  }

  private long chainSizeOr(long fallback) {
    return chain != null ? chain.virtualSizeBytes() : fallback;
  }

  /** Starts tracking changes (CBT just enabled while active). */
  void startTracking() throws IOException {
    lock.writeLock().lock();
    try {
      if (!readOnly && cbtBase == null && chain != null) {
        cbtBase = CbtLog.read(store, uuid);
        if (cbtBase != null) {
          cbtChanged = (BitSet) cbtBase.changed.clone();
          cbtBase.withConsistent(false).write(store, uuid);
        }
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Stops tracking (CBT disabled while active). */
  void stopTracking() {
    lock.writeLock().lock();
    try {
      cbtBase = null;
      cbtChanged = null;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** The changes tracked so far in this session, or null if not tracking. */
  BitSet trackedChanges() {
    lock.readLock().lock();
    try {
      return cbtChanged == null ? null : (BitSet) cbtChanged.clone();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Stops I/O and closes the chain until {@link #resume()}; call both from one thread. */
  @Override
  public void pause() throws IOException {
    pauseOpen();
    closeChain();
  }

  /**
   * {@link #pause()} for a snapshot or clone of this VDI: closes only the leaf and keeps its
   * parents open for {@link #resume()}, which then reads only the new leaf and the new base copy,
   * not the whole chain. Only when no parent file changes until the resume (a snapshot renames the
   * leaf and adds files; the GC, which rewrites parents, uses {@link #pause()}).
   */
  @Override
  public void pauseKeepingParents() throws IOException {
    lock.writeLock().lock();
    closeChain(true);
  }

  private static void closeAll(java.util.Collection<VhdImage> images) throws IOException {
    IoActions.forAll(images, VhdImage::close);
  }

  /**
   * Stops I/O (in-flight reads and writes complete first) but keeps the chain open, so that the
   * caller can still read the leaf ({@link #onLeaf}); then {@link #closePaused()} and {@link
   * #resume()}, all from one thread.
   */
  void pauseOpen() {
    lock.writeLock().lock();
  }

  /** Flushes and closes the chain of a device paused by {@link #pauseOpen()}. */
  void closePaused() throws IOException {
    closeChain();
  }

  /**
   * Reopens the VDI's (possibly new) leaf, unless a {@link #pauseOpen()} left it open, and lets I/O
   * continue.
   */
  @Override
  public void resume() throws IOException {
    try {
      if (!closed && chain == null) {
        openChain();
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Another host (the SR master) changes this VDI's chain: I/O waits and the chain is closed until
   * the suspension ends, which opens the chain the storage then has.
   */
  @Override
  public Suspension suspend() throws SmException {
    try {
      pause();
    } catch (IOException e) {
      SmException failure = SmErrors.of(e, SmError.EIO, "suspend of VDI " + uuid);
      try {
        resume();
      } catch (IOException r) {
        failure.addSuppressed(r);
      }
      throw failure;
    }
    return () -> {
      try {
        resume();
      } catch (IOException e) {
        throw SmErrors.of(e, SmError.EIO, "resume of VDI " + uuid);
      }
    };
  }

  /** Flushes and closes for good (deactivate). */
  void close() throws IOException {
    lock.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        closeChain();
        closeAll(parked.values());
        parked = new HashMap<>();
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  private DiskChain live() throws SmException {
    if (closed || chain == null) {
      throw new SmException(SmError.VDI_UNAVAILABLE, "VDI " + uuid + " is not active");
    }
    return chain;
  }

  @Override
  public long sizeBytes() {
    lock.readLock().lock();
    try {
      return chain == null ? 0 : chain.virtualSizeBytes();
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public boolean readOnly() {
    return readOnly;
  }

  private void checkRange(DiskChain c, long offset, int length) throws SmException {
    if (offset < 0 || offset > c.virtualSizeBytes() - length) {
      throw new SmException(
          SmError.BAD_REQUEST,
          "I/O of "
              + length
              + " bytes at "
              + offset
              + " is outside VDI "
              + uuid
              + " of "
              + c.virtualSizeBytes()
              + " bytes");
    }
  }

  @Override
  public void read(ByteBuffer dst, long offsetBytes) throws SmException {
    lock.readLock().lock();
    try {
      DiskChain c = live();
      checkRange(c, offsetBytes, dst.remaining());
      int len = dst.remaining();
      c.read(dst, offsetBytes);
      foreground.accept(len);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.EIO, "read of VDI " + uuid);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void write(ByteBuffer src, long offsetBytes) throws SmException {
    if (readOnly) {
      throw new SmException(SmError.VDI_UNAVAILABLE, "VDI " + uuid + " is active read-only");
    }
    lock.readLock().lock();
    try {
      DiskChain c = live();
      int len = src.remaining();
      checkRange(c, offsetBytes, len);
      synchronized (writeOrder) {
        c.write(src, offsetBytes);
        if (cbtChanged != null) {
          CbtLog.mark(cbtChanged, offsetBytes, len);
        }
        if (tracker != null) {
          tracker.mark(offsetBytes, len);
        }
      }
      foreground.accept(len);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.EIO, "write to VDI " + uuid);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void flush() throws SmException {
    lock.readLock().lock();
    try {
      live().flush();
      synchronized (writeOrder) {
        writeCbt(false);
      }
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.EIO, "flush of VDI " + uuid);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public BitSet allocatedBlocks() throws SmException {
    lock.readLock().lock();
    try {
      BitSet all = new BitSet();
      DiskChain c = live();
      if (c instanceof VhdChain v) {
        for (VhdImage l : v.layers()) {
          all.or(l.allocatedBlocks());
        }
      } else if (c instanceof Qcow2Chain q) {
        int shift = Integer.numberOfTrailingZeros(allocationBlockSizeBytes());
        int bits = q.leaf().clusterBits();
        BitSet clusters = q.allocatedClusters();
        for (int i = clusters.nextSetBit(0); i >= 0; i = clusters.nextSetBit(i + 1)) {
          all.set((int) (((long) i << bits) >> shift));
        }
      }
      return all;
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.EIO, "allocation map of VDI " + uuid);
    } finally {
      lock.readLock().unlock();
    }
  }
}
