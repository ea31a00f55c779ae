package org.xsm.iscsi.array.scsi;

import static org.xsm.iscsi.array.scsi.ScsiCommands.u16;
import static org.xsm.iscsi.array.scsi.ScsiCommands.u32;
import static org.xsm.iscsi.array.scsi.ScsiCommands.u64;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.xsm.iscsi.array.pool.BlockPool;

/** The data commands: READ, WRITE, VERIFY, WRITE SAME, UNMAP, SYNCHRONIZE CACHE, GET LBA STATUS. */
final class Io {
  private static final int BLOCK = ScsiPages.BLOCK;
  private static final Sense MISCOMPARE = new Sense(0x0e, 0x1d, 0x00);

  private final BlockPool pool;

  Io(BlockPool pool) {
    this.pool = pool;
  }

  /** LBA, length in blocks and the flags byte of a 6/10/12/16-byte read, write or verify CDB. */
  private record Range(long lba, long blocks, int flags) {
    static Range of(byte[] cdb) {
      int op = cdb[0] & 0xff;
      return switch (op >>> 5) {
        case 0 -> {
          int len = cdb[4] & 0xff;
          yield new Range(((cdb[1] & 0x1f) << 16) | u16(cdb, 2), len == 0 ? 256 : len, 0);
        }
        case 1, 2 -> new Range(u32(cdb, 2), u16(cdb, 7), cdb[1] & 0xff);
        case 5 -> new Range(u32(cdb, 2), u32(cdb, 6), cdb[1] & 0xff);
        default -> new Range(u64(cdb, 2), u32(cdb, 10), cdb[1] & 0xff);
      };
    }

    /** Null if the range is valid, else the sense to report. */
    Sense check(long capacity, long max) {
      if ((flags & 0xe0) != 0) {
        return Sense.INVALID_FIELD_IN_CDB; // no protection information on this target
      }
      if (outside(lba, blocks, capacity)) {
        return Sense.LBA_OUT_OF_RANGE;
      }
      if (blocks > max) {
        return Sense.INVALID_FIELD_IN_CDB;
      }
      return null;
    }

    boolean fua() {
      return (flags & 0x08) != 0;
    }
  }

  /** True if [lba, lba+blocks) is not inside the LUN; LBAs are unsigned 64-bit on the wire. */
  static boolean outside(long lba, long blocks, long capacity) {
    return lba < 0 || lba > capacity || blocks > capacity - lba;
  }

  ScsiResponse read(int lun, byte[] cdb, long capacity) throws IOException {
    Range r = Range.of(cdb);
    Sense bad = r.check(capacity, ScsiPages.MAX_TRANSFER_BLOCKS);
    if (bad != null) {
      return ScsiResponse.check(bad);
    }
    int len = (int) (r.blocks * BLOCK);
    byte[] data = new byte[len];
    pool.read(lun, r.lba * BLOCK, data, 0, len);
    return ScsiResponse.data(data, len);
  }

  ScsiResponse write(int lun, byte[] cdb, long capacity, byte[] out, int outLength)
      throws IOException {
    Range r = Range.of(cdb);
    Sense bad = r.check(capacity, ScsiPages.MAX_TRANSFER_BLOCKS);
    if (bad != null) {
      return ScsiResponse.check(bad);
    }
    int needed = (int) (r.blocks * BLOCK);
    // The initiator may send less than the CDB asks for (write what arrived, whole blocks only,
    // report an overflow) or more (write what the CDB asks for, report an underflow).
    int len = Math.min(needed, outLength / BLOCK * BLOCK);
    pool.write(lun, r.lba * BLOCK, out, 0, len);
    int op = cdb[0] & 0xff;
    boolean verify = op == 0x2e || op == 0xae || op == 0x8e;
    if (r.fua() || verify) {
      pool.flush();
    }
    return new ScsiResponse(ScsiResponse.GOOD, new byte[0], 0, null, outLength - needed);
  }

  ScsiResponse verify(int lun, byte[] cdb, long capacity, byte[] out, int outLength)
      throws IOException {
    Range r = Range.of(cdb);
    Sense bad = r.check(capacity, ScsiPages.MAX_TRANSFER_BLOCKS);
    if (bad != null) {
      return ScsiResponse.check(bad);
    }
    int byteCheck = (r.flags >>> 1) & 3;
    if (byteCheck == 0) {
      return ScsiResponse.good(); // medium verification: the pool has nothing to scrub
    }
    if (byteCheck != 1) {
      return ScsiResponse.check(Sense.INVALID_FIELD_IN_CDB);
    }
    int len = (int) (r.blocks * BLOCK);
    byte[] data = new byte[len];
    pool.read(lun, r.lba * BLOCK, data, 0, len);
    int at = Arrays.mismatch(data, 0, len, out, 0, Math.min(len, outLength));
    if (at >= 0) {
      return ScsiResponse.check(MISCOMPARE);
    }
    return ScsiResponse.good();
  }

  ScsiResponse writeSame(
      int lun, byte[] cdb, long capacity, byte[] out, int outLength, boolean readOnly)
      throws IOException {
    boolean sixteen = (cdb[0] & 0xff) == 0x93;
    long lba = sixteen ? u64(cdb, 2) : u32(cdb, 2);
    long blocks = sixteen ? u32(cdb, 10) : u16(cdb, 7);
    int flags = cdb[1] & 0xff;
    boolean noDataOut = sixteen && (flags & 0x01) != 0;
    if ((flags & 0xe0) != 0
        || (flags & 0x16) != 0
        || blocks == 0
        || blocks > ScsiPages.MAX_UNMAP_BLOCKS) {
      return ScsiResponse.check(
          Sense.INVALID_FIELD_IN_CDB); // protection, ANCHOR, PBDATA/LBDATA, WSNZ
    }
    if (outside(lba, blocks, capacity)) {
      return ScsiResponse.check(Sense.LBA_OUT_OF_RANGE);
    }
    if (readOnly) {
      return ScsiResponse.check(Sense.WRITE_PROTECTED);
    }
    if (!noDataOut && outLength != BLOCK) {
      return ScsiResponse.check(Sense.INVALID_FIELD_IN_CDB);
    }
    // UNMAP (0x08) needs no separate path: zero blocks are unmapped blocks here, and a non-zero
    // pattern is written, which SBC allows when a device does not unmap.
    boolean zeros = noDataOut || Arrays.mismatch(out, 0, BLOCK, new byte[BLOCK], 0, BLOCK) == -1;
    long offset = lba * BLOCK;
    long total = blocks * BLOCK;
    if (zeros) {
      pool.zero(lun, offset, total);
      return ScsiResponse.good();
    }
    int chunk = 1 << 20;
    byte[] pattern = new byte[chunk];
    for (int i = 0; i < chunk; i += BLOCK) {
      System.arraycopy(out, 0, pattern, i, BLOCK);
    }
    for (long done = 0; done < total; done += chunk) {
      pool.write(lun, offset + done, pattern, 0, (int) Math.min(chunk, total - done));
    }
    return ScsiResponse.good();
  }

  ScsiResponse unmap(
      int lun, byte[] cdb, long capacity, byte[] out, int outLength, boolean readOnly)
      throws IOException {
    if ((cdb[1] & 0x01) != 0) {
      return ScsiResponse.check(Sense.INVALID_FIELD_IN_CDB); // ANCHOR
    }
    int paramLength = u16(cdb, 7);
    if (paramLength == 0) {
      return ScsiResponse.good();
    }
    if (paramLength < 8 || outLength < 8) {
      return ScsiResponse.check(Sense.PARAMETER_LIST_LENGTH_ERROR);
    }
    int descLength = u16(out, 2);
    int n = Math.min(descLength, Math.min(paramLength, outLength) - 8) / 16;
    if (n > ScsiPages.MAX_UNMAP_DESCRIPTORS) {
      return ScsiResponse.check(Sense.INVALID_FIELD_IN_PARAMETERS);
    }
    for (int i = 0; i < n; i++) {
      long lba = u64(out, 8 + 16 * i);
      long blocks = u32(out, 16 + 16 * i);
      if (outside(lba, blocks, capacity)) {
        return ScsiResponse.check(Sense.LBA_OUT_OF_RANGE);
      }
      if (blocks > ScsiPages.MAX_UNMAP_BLOCKS) {
        return ScsiResponse.check(Sense.INVALID_FIELD_IN_PARAMETERS);
      }
    }
    if (readOnly) {
      return ScsiResponse.check(Sense.WRITE_PROTECTED);
    }
    for (int i = 0; i < n; i++) {
      long lba = u64(out, 8 + 16 * i);
      long blocks = u32(out, 16 + 16 * i);
      if (blocks > 0) {
        pool.zero(lun, lba * BLOCK, blocks * BLOCK);
      }
    }
    return ScsiResponse.good();
  }

  ScsiResponse syncOrPrefetch(byte[] cdb, long capacity) throws IOException {
    boolean sixteen = (cdb[0] & 0xff) == 0x91 || (cdb[0] & 0xff) == 0x90;
    long lba = sixteen ? u64(cdb, 2) : u32(cdb, 2);
    long blocks = sixteen ? u32(cdb, 10) : u16(cdb, 7);
    if (outside(lba, blocks, capacity)) {
      return ScsiResponse.check(Sense.LBA_OUT_OF_RANGE);
    }
    int op = cdb[0] & 0xff;
    if (op == 0x35 || op == 0x91) {
      pool.flush();
    }
    return ScsiResponse.good();
  }

  ScsiResponse lbaStatus(int lun, long lba, long capacity, long alloc) throws IOException {
    if (lba < 0 || lba >= capacity) {
      return ScsiResponse.check(Sense.LBA_OUT_OF_RANGE);
    }
    BlockPool.Extent e = pool.extent(lun, lba * BLOCK);
    long blocks = Math.min(e.lengthBytes() / BLOCK, capacity - lba);
    ByteBuffer b = ByteBuffer.allocate(24);
    b.putInt(20).putInt(0);
    b.putLong(lba).putInt((int) Math.min(blocks, 0xffffffffL)).put((byte) (e.mapped() ? 0 : 1));
    return ScsiResponse.data(b.array(), (int) Math.min(alloc, 24));
  }
}
