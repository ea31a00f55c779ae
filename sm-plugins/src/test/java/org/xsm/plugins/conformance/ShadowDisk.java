package org.xsm.plugins.conformance;

import static org.assertj.core.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;

/**
 * The content a disk should have: every write the kit makes through a {@link VdiDevice} is also
 * applied here, and {@link #assertMatches} compares the device with it byte for byte.
 */
final class ShadowDisk {
  static final int MIB = 1024 * 1024;

  private final byte[] bytes;

  ShadowDisk(long sizeBytes) {
    if (sizeBytes > 256L * MIB) {
      throw new IllegalArgumentException("shadow disks are for small VDIs, not " + sizeBytes);
    }
    this.bytes = new byte[(int) sizeBytes];
  }

  private ShadowDisk(byte[] bytes) {
    this.bytes = bytes;
  }

  long sizeBytes() {
    return bytes.length;
  }

  /** A frozen copy: what a snapshot taken now must hold forever. */
  ShadowDisk copy() {
    return new ShadowDisk(bytes.clone());
  }

  /** The same content on a disk of a new size: cut off, or grown with zeros. */
  ShadowDisk resized(long newSizeBytes) {
    return new ShadowDisk(Arrays.copyOf(bytes, Math.toIntExact(newSizeBytes)));
  }

  /** Writes {@code data} at {@code offsetBytes} to the device and to this model. */
  void write(VdiDevice device, long offsetBytes, byte[] data) throws SmException {
    device.write(ByteBuffer.wrap(data), offsetBytes);
    System.arraycopy(data, 0, bytes, Math.toIntExact(offsetBytes), data.length);
  }

  /** Whether bytes {@code [from, to)} are all zero. */
  boolean isZero(long from, long to) {
    return isZero(bytes, Math.toIntExact(from), Math.toIntExact(Math.min(to, bytes.length)));
  }

  /** Records a write made to the device some other way. */
  void record(long offsetBytes, byte[] data) {
    System.arraycopy(data, 0, bytes, Math.toIntExact(offsetBytes), data.length);
  }

  /** Writes {@code length} random bytes at {@code offsetBytes}. */
  void writeRandom(VdiDevice device, Random random, long offsetBytes, int length)
      throws SmException {
    byte[] data = new byte[length];
    random.nextBytes(data);
    write(device, offsetBytes, data);
  }

  /**
   * One round of test writes: aligned and unaligned, across 2 MiB (VHD block) boundaries, at the
   * very start and the very end, plus a few at random places. {@code round} shifts them so
   * successive rounds overlap partly.
   */
  void writeRound(VdiDevice device, Random random, int round) throws SmException {
    long size = bytes.length;
    writeRandom(device, random, 0, 4096);
    writeRandom(device, random, 511 + 13L * round, 1000);
    if (size >= 4L * MIB) {
      writeRandom(device, random, 2L * MIB - 300 + 7L * round, 600);
    }
    if (size >= 6L * MIB) {
      writeRandom(device, random, 4L * MIB - 1 - round, 2 + round);
    }
    if (size >= 8L * MIB) {
      // One write spanning a whole 2 MiB block and parts of its neighbours.
      writeRandom(device, random, 4L * MIB - 4096 - round, 2 * MIB + 8192);
    }
    for (int i = 0; i < 4; i++) {
      int length = 1 + random.nextInt(70_000);
      long offset = (long) (random.nextDouble() * (size - length));
      writeRandom(device, random, offset, length);
    }
    writeRandom(device, random, size - 513, 513);
  }

  /** Asserts that the device has exactly this content. */
  void assertMatches(VdiDevice device, String what) throws SmException {
    if (device.sizeBytes() != bytes.length) {
      fail(what + ": device size is " + device.sizeBytes() + ", expected " + bytes.length);
    }
    byte[] actual = readAll(device);
    int first = Arrays.mismatch(actual, bytes);
    if (first >= 0) {
      int differing = 0;
      int last = first;
      for (int i = first; i < bytes.length; i++) {
        if (actual[i] != bytes[i]) {
          differing++;
          last = i;
        }
      }
      fail(
          String.format(
              "%s: %d bytes differ in [%d, %d] (first in 2 MiB block %d): at %d expected 0x%02x,"
                  + " read 0x%02x%s",
              what,
              differing,
              first,
              last,
              first / (2 * MIB),
              first,
              bytes[first] & 0xff,
              actual[first] & 0xff,
              isZero(actual, first, last + 1) ? " (read zeros)" : ""));
    }
  }

  static byte[] readAll(VdiDevice device) throws SmException {
    byte[] all = new byte[Math.toIntExact(device.sizeBytes())];
    for (int off = 0; off < all.length; off += MIB) {
      device.read(ByteBuffer.wrap(all, off, Math.min(MIB, all.length - off)), off);
    }
    return all;
  }

  static byte[] read(VdiDevice device, long offsetBytes, int length) throws SmException {
    byte[] data = new byte[length];
    device.read(ByteBuffer.wrap(data), offsetBytes);
    return data;
  }

  static boolean isZero(byte[] data, int from, int to) {
    for (int i = from; i < to; i++) {
      if (data[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
