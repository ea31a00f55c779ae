package org.xsm.iscsi.array.scsi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.xsm.iscsi.array.ArrayException;
import org.xsm.iscsi.array.pdu.Pdu;
import org.xsm.iscsi.array.pool.BlockPool;
import org.xsm.iscsi.array.pool.LunInfo;
import org.xsm.iscsi.array.pool.NoSpaceException;
import org.xsm.iscsi.array.pool.OutOfRangeException;
import org.xsm.iscsi.array.pool.ReadOnlyException;

/**
 * Executes SCSI commands (SPC-4, SBC-3) against the LUNs of a {@link BlockPool}, 512-byte logical
 * blocks. The transport hands over the CDB and, for data-out commands, all the data the initiator
 * sent; the response says what to send back. Thread-safe (the pool is).
 */
public final class ScsiCommands {
  private static final Logger LOG = Logger.getLogger(ScsiCommands.class.getName());
  private static final int BLOCK = ScsiPages.BLOCK;

  private final BlockPool pool;
  private final Io io;

  public ScsiCommands(BlockPool pool) {
    this.pool = pool;
    this.io = new Io(pool);
  }

  /**
   * Executes one command.
   *
   * @param lun the LUN number addressed
   * @param cdb the command descriptor block (16 bytes, zero padded)
   * @param out data from the initiator ({@code outLength} bytes), empty for data-in commands
   */
  public ScsiResponse execute(int lun, byte[] cdb, byte[] out, int outLength) {
    int op = cdb[0] & 0xff;
    try {
      if (op == 0x12) {
        return inquiry(lun, cdb);
      }
      if (op == 0xa0) {
        return reportLuns(cdb);
      }
      if (op == 0x03) {
        return requestSense(cdb);
      }
      LunInfo info = pool.luns().byNumberOrNull(lun);
      if (info == null) {
        return ScsiResponse.check(Sense.LUN_NOT_SUPPORTED);
      }
      long blocks = info.sizeBytes() / BLOCK;
      return switch (op) {
        case 0x00, 0x1b, 0x1e -> ScsiResponse.good(); // TEST UNIT READY, START STOP, PREVENT ALLOW
        case 0x25 -> readCapacity10(blocks);
        case 0x9e -> serviceActionIn(cdb, lun, blocks);
        case 0x1a, 0x5a -> modeSense(cdb, info, blocks);
        case 0x08, 0x28, 0xa8, 0x88 -> io.read(lun, cdb, blocks);
        case 0x0a, 0x2a, 0xaa, 0x8a, 0x2e, 0xae, 0x8e -> io.write(lun, cdb, blocks, out, outLength);
        case 0x2f, 0xaf, 0x8f -> io.verify(lun, cdb, blocks, out, outLength);
        case 0x41, 0x93 -> io.writeSame(lun, cdb, blocks, out, outLength, info.readOnly());
        case 0x42 -> io.unmap(lun, cdb, blocks, out, outLength, info.readOnly());
        case 0x35, 0x91, 0x34, 0x90 -> io.syncOrPrefetch(cdb, blocks);
        default -> ScsiResponse.check(Sense.INVALID_OPCODE);
      };
    } catch (ArrayException e) {
      return ScsiResponse.check(Sense.LUN_NOT_SUPPORTED);
    } catch (OutOfRangeException e) {
      return ScsiResponse.check(Sense.LBA_OUT_OF_RANGE);
    } catch (ReadOnlyException e) {
      return ScsiResponse.check(Sense.WRITE_PROTECTED);
    } catch (NoSpaceException e) {
      return ScsiResponse.check(Sense.SPACE_ALLOCATION_FAILED);
    } catch (IOException e) {
      LOG.log(
          Level.WARNING, "I/O error on LUN " + lun + ", opcode 0x" + Integer.toHexString(op), e);
      return ScsiResponse.check(
          op == 0x28 || op == 0x88 || op == 0x08 || op == 0xa8
              ? Sense.READ_ERROR
              : Sense.WRITE_ERROR);
    }
  }

  private ScsiResponse inquiry(int lun, byte[] cdb) {
    boolean evpd = (cdb[1] & 0x01) != 0;
    int page = cdb[2] & 0xff;
    int alloc = u16(cdb, 3);
    if ((cdb[1] & 0xfe) != 0 || (!evpd && page != 0)) {
      return ScsiResponse.check(Sense.INVALID_FIELD_IN_CDB);
    }
    LunInfo info = pool.luns().byNumberOrNull(lun);
    byte[] data;
    if (!evpd) {
      data = ScsiPages.standard(info);
    } else {
      if (info == null) {
        return ScsiResponse.check(Sense.LUN_NOT_SUPPORTED);
      }
      data = ScsiPages.vpd(page, info);
      if (data == null) {
        return ScsiResponse.check(Sense.INVALID_FIELD_IN_CDB);
      }
    }
    return ScsiResponse.data(data, Math.min(alloc, data.length));
  }

  private ScsiResponse reportLuns(byte[] cdb) {
    int select = cdb[2] & 0xff;
    long alloc = u32(cdb, 6);
    if (select > 2 || alloc < 16) {
      return ScsiResponse.check(Sense.INVALID_FIELD_IN_CDB);
    }
    List<LunInfo> luns =
        select == 1
            ? List.of()
            : pool.luns().list().stream().filter(l -> !l.dataDestroyed()).toList();
    ByteBuffer b = ByteBuffer.allocate(8 + 8 * luns.size());
    b.putInt(8 * luns.size()).putInt(0);
    for (LunInfo l : luns) {
      b.putLong(Pdu.encodeLun(l.lun()));
    }
    return ScsiResponse.data(b.array(), (int) Math.min(alloc, b.capacity()));
  }

  private static ScsiResponse requestSense(byte[] cdb) {
    int alloc = cdb[4] & 0xff;
    byte[] data;
    if ((cdb[1] & 0x01) != 0) {
      data = new byte[8];
      data[0] = 0x72; // descriptor format, no sense
    } else {
      data = new Sense(Sense.NO_SENSE, 0, 0).bytes();
    }
    return ScsiResponse.data(data, Math.min(alloc, data.length));
  }

  private static ScsiResponse readCapacity10(long blocks) {
    ByteBuffer b = ByteBuffer.allocate(8);
    b.putInt((int) Math.min(blocks - 1, 0xffffffffL)).putInt(BLOCK);
    return ScsiResponse.data(b.array(), 8);
  }

  private ScsiResponse serviceActionIn(byte[] cdb, int lun, long blocks) throws IOException {
    int sa = cdb[1] & 0x1f;
    long alloc = u32(cdb, 10);
    if (sa == 0x10) {
      ByteBuffer b = ByteBuffer.allocate(32);
      b.putLong(blocks - 1).putInt(BLOCK);
      b.put((byte) 0).put((byte) 3); // 8 logical blocks per 4 KiB pool block
      b.put((byte) 0xc0); // LBPME, LBPRZ: thin, unmapped blocks read as zeros
      return ScsiResponse.data(b.array(), (int) Math.min(alloc, 32));
    }
    if (sa == 0x12) {
      return io.lbaStatus(lun, u64(cdb, 2), blocks, alloc);
    }
    return ScsiResponse.check(Sense.INVALID_FIELD_IN_CDB);
  }

  private static ScsiResponse modeSense(byte[] cdb, LunInfo info, long blocks) {
    boolean six = (cdb[0] & 0xff) == 0x1a;
    boolean dbd = (cdb[1] & 0x08) != 0;
    boolean longLba = !six && (cdb[1] & 0x10) != 0;
    int pc = (cdb[2] & 0xc0) >>> 6;
    int page = cdb[2] & 0x3f;
    int subpage = cdb[3] & 0xff;
    int alloc = six ? cdb[4] & 0xff : u16(cdb, 7);
    if (pc == 3) {
      return ScsiResponse.check(Sense.SAVING_NOT_SUPPORTED);
    }
    if (subpage != 0 && !(subpage == 0xff && page == 0x3f)) {
      return ScsiResponse.check(Sense.INVALID_FIELD_IN_CDB);
    }
    byte[] pages = ScsiPages.modePages(page, pc == 1);
    if (pages == null) {
      return ScsiResponse.check(Sense.INVALID_FIELD_IN_CDB);
    }
    int descLen = dbd ? 0 : longLba ? 16 : 8;
    int header = six ? 4 : 8;
    ByteBuffer b = ByteBuffer.allocate(header + descLen + pages.length);
    int deviceSpecific = (info.readOnly() ? 0x80 : 0) | 0x10; // WP, DPOFUA
    if (six) {
      b.put((byte) (b.capacity() - 1)).put((byte) 0).put((byte) deviceSpecific).put((byte) descLen);
    } else {
      b.putShort((short) (b.capacity() - 2)).put((byte) 0).put((byte) deviceSpecific);
      b.put((byte) (longLba ? 1 : 0)).put((byte) 0).putShort((short) descLen);
    }
    if (descLen == 8) {
      b.putInt((int) Math.min(blocks, 0xffffff)).putInt(BLOCK);
    } else if (descLen == 16) {
      b.putLong(blocks).putInt(0).putInt(BLOCK);
    }
    b.put(pages);
    return ScsiResponse.data(b.array(), Math.min(alloc, b.capacity()));
  }

  static int u16(byte[] b, int off) {
    return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
  }

  static long u32(byte[] b, int off) {
    return ((long) u16(b, off) << 16) | u16(b, off + 2);
  }

  static long u64(byte[] b, int off) {
    return (u32(b, off) << 32) | u32(b, off + 4);
  }
}
