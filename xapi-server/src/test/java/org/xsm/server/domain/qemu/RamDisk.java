package org.xsm.server.domain.qemu;

import java.nio.ByteBuffer;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;

/** A writable disk in memory, for tests that export it over NBD and compare its bytes after. */
final class RamDisk implements VdiDevice {
  private final byte[] bytes;

  RamDisk(int sizeBytes) {
    this.bytes = new byte[sizeBytes];
  }

  @Override
  public long sizeBytes() {
    return bytes.length;
  }

  @Override
  public boolean readOnly() {
    return false;
  }

  @Override
  public synchronized void read(ByteBuffer dst, long offsetBytes) throws SmException {
    check(offsetBytes, dst.remaining());
    dst.put(bytes, (int) offsetBytes, dst.remaining());
  }

  @Override
  public synchronized void write(ByteBuffer src, long offsetBytes) throws SmException {
    check(offsetBytes, src.remaining());
    src.get(bytes, (int) offsetBytes, src.remaining());
  }

  @Override
  public void flush() {
    // memory: every write is as durable as it gets when it returns
  }

  /** A copy of {@code length} bytes at {@code offset}. */
  synchronized byte[] copy(int offset, int length) {
    byte[] b = new byte[length];
    System.arraycopy(bytes, offset, b, 0, length);
    return b;
  }

  private void check(long offset, int length) throws SmException {
    if (offset < 0 || offset + length > bytes.length) {
      throw new SmException(
          SmError.BAD_REQUEST, length + " bytes at " + offset + " are outside the disk");
    }
  }
}
