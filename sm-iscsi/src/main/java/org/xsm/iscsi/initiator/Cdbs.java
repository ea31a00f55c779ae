package org.xsm.iscsi.initiator;

import java.nio.ByteBuffer;

/** Builders of the SCSI command descriptor blocks this initiator sends (SBC-4, SPC-4). */
final class Cdbs {
  static final int READ_10 = 0x28;
  static final int WRITE_10 = 0x2a;
  static final int READ_16 = 0x88;
  static final int WRITE_16 = 0x8a;

  private Cdbs() {}

  static byte[] testUnitReady() {
    return new byte[6];
  }

  static byte[] inquiry(boolean vitalProductData, int page, int allocationLength) {
    byte[] cdb = new byte[6];
    cdb[0] = 0x12;
    cdb[1] = (byte) (vitalProductData ? 1 : 0);
    cdb[2] = (byte) page;
    cdb[3] = (byte) (allocationLength >>> 8);
    cdb[4] = (byte) allocationLength;
    return cdb;
  }

  static byte[] readCapacity10() {
    byte[] cdb = new byte[10];
    cdb[0] = 0x25;
    return cdb;
  }

  static byte[] readCapacity16(int allocationLength) {
    ByteBuffer b = ByteBuffer.allocate(16);
    b.put(0, (byte) 0x9e);
    b.put(1, (byte) 0x10); // service action READ CAPACITY (16)
    b.putInt(10, allocationLength);
    return b.array();
  }

  /** READ/WRITE (10) or (16) of {@code blocks} blocks at {@code lba}. */
  static byte[] readWrite(int opcode, long lba, int blocks) {
    if (opcode == READ_10 || opcode == WRITE_10) {
      ByteBuffer b = ByteBuffer.allocate(10);
      b.put(0, (byte) opcode);
      b.putInt(2, (int) lba);
      b.putShort(7, (short) blocks);
      return b.array();
    }
    ByteBuffer b = ByteBuffer.allocate(16);
    b.put(0, (byte) opcode);
    b.putLong(2, lba);
    b.putInt(10, blocks);
    return b.array();
  }

  /** SYNCHRONIZE CACHE (10) of the whole medium (LBA 0, 0 blocks). */
  static byte[] synchronizeCache() {
    byte[] cdb = new byte[10];
    cdb[0] = 0x35;
    return cdb;
  }

  /** GET LBA STATUS (SBC-4 5.6): provisioning status of the blocks from {@code lba} on. */
  static byte[] getLbaStatus(long lba, int allocationLength) {
    ByteBuffer b = ByteBuffer.allocate(16);
    b.put(0, (byte) 0x9e);
    b.put(1, (byte) 0x12);
    b.putLong(2, lba);
    b.putInt(10, allocationLength);
    return b.array();
  }

  static byte[] reportLuns(int allocationLength) {
    ByteBuffer b = ByteBuffer.allocate(12);
    b.put(0, (byte) 0xa0);
    b.putInt(6, allocationLength);
    return b.array();
  }

  static byte[] unmap(int parameterListLength) {
    ByteBuffer b = ByteBuffer.allocate(10);
    b.put(0, (byte) 0x42);
    b.putShort(7, (short) parameterListLength);
    return b.array();
  }

  /** The UNMAP parameter list with one block descriptor. */
  static ByteBuffer unmapParameters(long lba, int blocks) {
    ByteBuffer b = ByteBuffer.allocate(24);
    b.putShort(0, (short) 22);
    b.putShort(2, (short) 16);
    b.putLong(8, lba);
    b.putInt(16, blocks);
    return b;
  }
}
