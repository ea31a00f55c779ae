package org.xsm.iscsi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.iscsi.initiator.ScsiDisk;
import org.xsm.iscsi.initiator.ScsiStatusException;
import org.xsm.iscsi.initiator.SenseData;

/**
 * An active VDI: its LUN through the plugin's own iSCSI initiator.
 *
 * <p>Pausing ({@link #pause()}) lets a snapshot or clone of the LUN be point-in-time: writes hold a
 * shared lock, the pause takes it exclusively (waiting for writes in flight to complete), then
 * flushes, so the array's snapshot holds every write that returned before the pause and none that
 * began after it.
 */
final class IscsiVdiDevice implements VdiDevice {
  private final String location;
  private final ScsiDisk disk;
  private final boolean readOnly;
  private final ReentrantReadWriteLock pause = new ReentrantReadWriteLock(true);
  private volatile boolean closed;

  IscsiVdiDevice(String location, ScsiDisk disk, boolean readOnly) {
    this.location = location;
    this.disk = disk;
    this.readOnly = readOnly;
  }

  @Override
  public long sizeBytes() {
    return disk.sizeBytes();
  }

  @Override
  public boolean readOnly() {
    return readOnly;
  }

  @Override
  public void read(ByteBuffer dst, long offsetBytes) throws SmException {
    checkOpen();
    checkRange(offsetBytes, dst.remaining());
    try {
      disk.read(dst, offsetBytes);
    } catch (IOException e) {
      throw mapped("read", offsetBytes, e);
    }
  }

  @Override
  public void write(ByteBuffer src, long offsetBytes) throws SmException {
    checkOpen();
    if (readOnly) {
      throw new SmException(SmError.VDI_UNAVAILABLE, "VDI " + location + " is read-only here");
    }
    checkRange(offsetBytes, src.remaining());
    pause.readLock().lock();
    try {
      checkOpen();
      disk.write(src, offsetBytes);
    } catch (IOException e) {
      throw mapped("write", offsetBytes, e);
    } finally {
      pause.readLock().unlock();
    }
  }

  @Override
  public void flush() throws SmException {
    checkOpen();
    if (readOnly) {
      return;
    }
    try {
      disk.flush();
    } catch (IOException e) {
      throw mapped("flush", 0, e);
    }
  }

  /** Reads the LUN's capacity again after it grew. */
  void refreshCapacity() throws SmException {
    checkOpen();
    try {
      disk.readCapacity();
    } catch (IOException e) {
      throw mapped("capacity", 0, e);
    }
  }

  /** From the LUN's provisioning status (GET LBA STATUS), where the array reports it. */
  @Override
  public BitSet allocatedBlocks() throws SmException {
    checkOpen();
    try {
      return disk.allocated(allocationBlockSizeBytes());
    } catch (IOException e) {
      throw mapped("allocation map", 0, e);
    }
  }

  /**
   * Waits for writes in flight, flushes, and holds new writes until the returned handle is closed.
   */
  Paused pause() throws SmException {
    pause.writeLock().lock();
    try {
      flush();
    } catch (SmException | RuntimeException e) {
      pause.writeLock().unlock();
      throw e;
    }
    return () -> pause.writeLock().unlock();
  }

  /** A held pause; closing it lets writes go on. */
  interface Paused extends AutoCloseable {
    @Override
    void close();
  }

  /** Flushes and makes every later call fail with VDI_UNAVAILABLE. */
  void close() throws SmException {
    try (Paused p = pause()) {
      closed = true;
    }
  }

  private void checkOpen() throws SmException {
    if (closed) {
      throw new SmException(SmError.VDI_UNAVAILABLE, "VDI " + location + " is not active");
    }
  }

  private void checkRange(long offsetBytes, int length) throws SmException {
    if (offsetBytes < 0 || offsetBytes + length > disk.sizeBytes()) {
      throw new SmException(
          SmError.BAD_REQUEST,
          "bytes "
              + offsetBytes
              + ".."
              + (offsetBytes + length)
              + " are outside VDI "
              + location
              + " of "
              + disk.sizeBytes()
              + " bytes");
    }
  }

  private SmException mapped(String op, long offsetBytes, IOException e) {
    String what = op + " of VDI " + location + " at byte " + offsetBytes + ": " + e.getMessage();
    if (e instanceof ScsiStatusException s && s.sense() != null) {
      SenseData sense = s.sense();
      if (sense.key() == SenseData.DATA_PROTECT) {
        if (sense.asc() == 0x27 && sense.ascq() == 0x07) {
          return new SmException(SmError.SR_NO_SPACE, what, e);
        }
        return new SmException(SmError.VDI_UNAVAILABLE, what, e);
      }
      if (sense.key() == SenseData.ILLEGAL_REQUEST && sense.asc() == 0x21) {
        return new SmException(SmError.BAD_REQUEST, what, e);
      }
      if (sense.asc() == 0x55) {
        return new SmException(SmError.SR_NO_SPACE, what, e);
      }
    }
    return new SmException(SmError.EIO, what, e);
  }
}
