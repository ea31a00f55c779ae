package org.xsm.api;

import java.nio.ByteBuffer;
import java.util.BitSet;

/**
 * An activated VDI as a block device: positional byte I/O on the disk a VM sees. NBD, HTTP
 * import/export, the VM layer and checkpoints read and write disks only through this.
 *
 * <p>Thread-safety: implementations are safe for concurrent reads and writes from several threads;
 * overlapping concurrent writes end with one of them, whole. Durability: a write is durable after
 * {@link #flush()} returns, not before. A device stays valid until the VDI is deactivated; after
 * that every call fails with {@link SmError#VDI_UNAVAILABLE}.
 */
public interface VdiDevice {

  /** The disk size in bytes. */
  long sizeBytes();

  /** Whether writes are refused (snapshots, base copies, read-only activation). */
  boolean readOnly();

  /**
   * Reads {@code dst.remaining()} bytes at {@code offsetBytes}.
   *
   * @throws SmException {@link SmError#BAD_REQUEST} if the range is outside the disk, {@link
   *     SmError#EIO} on I/O failure
   */
  void read(ByteBuffer dst, long offsetBytes) throws SmException;

  /**
   * Writes {@code src.remaining()} bytes at {@code offsetBytes}.
   *
   * @throws SmException {@link SmError#VDI_UNAVAILABLE} if the device is read-only, {@link
   *     SmError#BAD_REQUEST} if the range is outside the disk, {@link SmError#SR_NO_SPACE} if the
   *     SR is full, {@link SmError#EIO} on other I/O failure
   */
  void write(ByteBuffer src, long offsetBytes) throws SmException;

  /** Makes every write so far durable. */
  void flush() throws SmException;

  /**
   * Suspends the device for a change of its VDI's chain made by another host (the SR master of a
   * shared SR, see {@link RemoteDevice}): new I/O waits, writes are flushed, and what the device
   * keeps open of the VDI's files is closed until the returned handle is closed, which opens the
   * VDI's chain again as the storage now has it and lets I/O go on. Both on one thread. The default
   * flushes and keeps nothing closed: for a device that caches nothing of the VDI's layout.
   */
  default Suspension suspend() throws SmException {
    flush();
    return () -> {};
  }

  /** A {@link #suspend()}ed device; {@link #close()} resumes it. */
  interface Suspension extends AutoCloseable {
    @Override
    void close() throws SmException;
  }

  /** The granularity of {@link #allocatedBlocks()}, in bytes. */
  default int allocationBlockSizeBytes() {
    return 2 * 1024 * 1024;
  }

  /**
   * Blocks that may hold data (bit {@code i}: bytes {@code [i * granularity, (i + 1) *
   * granularity)}); blocks not set read as zeros. Lets copies skip holes. The default says
   * everything may hold data.
   */
  default BitSet allocatedBlocks() throws SmException {
    BitSet all = new BitSet();
    int g = allocationBlockSizeBytes();
    all.set(0, (int) ((sizeBytes() + g - 1) / g));
    return all;
  }
}
