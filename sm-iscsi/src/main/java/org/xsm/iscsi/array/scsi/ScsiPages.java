package org.xsm.iscsi.array.scsi;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.xsm.iscsi.array.pool.LunInfo;

/**
 * The descriptive data of a LUN: standard INQUIRY, the VPD pages (00, 80, 83, B0, B1, B2) and the
 * mode pages (caching, control, informational exceptions). Stateless.
 */
final class ScsiPages {
  static final int BLOCK = 512;

  /** Largest READ/WRITE in logical blocks (32 MiB), advertised in the Block Limits page. */
  static final int MAX_TRANSFER_BLOCKS = 65536;

  /** Largest UNMAP range and WRITE SAME length in logical blocks (512 MiB). */
  static final int MAX_UNMAP_BLOCKS = 1024 * 1024;

  static final int MAX_UNMAP_DESCRIPTORS = 256;

  private static final byte[] VENDOR = ascii("XSM", 8);
  private static final byte[] PRODUCT = ascii("xsm array", 16);
  private static final byte[] REVISION = ascii("0001", 4);

  private ScsiPages() {}

  /** Standard INQUIRY data; {@code lun} null gives the "no logical unit" answer. */
  static byte[] standard(LunInfo lun) {
    byte[] b = new byte[96];
    b[0] = (byte) (lun == null ? 0x7f : 0x00);
    b[2] = 0x06; // SPC-4
    b[3] = 0x12; // HiSup, response data format 2
    b[4] = (byte) (b.length - 5);
    b[7] = 0x02; // CmdQue
    System.arraycopy(VENDOR, 0, b, 8, 8);
    System.arraycopy(PRODUCT, 0, b, 16, 16);
    System.arraycopy(REVISION, 0, b, 32, 4);
    ByteBuffer v = ByteBuffer.wrap(b, 58, 8);
    v.putShort((short) 0x00a0); // SAM-5
    v.putShort((short) 0x0960); // iSCSI
    v.putShort((short) 0x0460); // SPC-4
    v.putShort((short) 0x04c0); // SBC-3
    return b;
  }

  /** A VPD page, or null for a page this target does not have. */
  static byte[] vpd(int page, LunInfo lun) {
    return switch (page) {
      case 0x00 ->
          page(
              0x00,
              new byte[] {0x00, (byte) 0x80, (byte) 0x83, (byte) 0xb0, (byte) 0xb1, (byte) 0xb2});
      case 0x80 -> page(0x80, lun.id().getBytes(StandardCharsets.US_ASCII));
      case 0x83 -> page(0x83, identification(lun));
      case 0xb0 -> page(0xb0, blockLimits());
      case 0xb1 -> {
        byte[] p = new byte[0x3c];
        p[1] = 1; // medium rotation rate 1: non-rotating
        yield page(0xb1, p);
      }
      case 0xb2 ->
          page(0xb2, new byte[] {0, (byte) 0xe4, 0x02, 0}); // LBPU, LBPWS, LBPWS10, LBPRZ; thin
      default -> null;
    };
  }

  private static byte[] identification(LunInfo lun) {
    ByteBuffer d = ByteBuffer.allocate(256);
    // NAA locally assigned (type 3): 60 bits from the LUN id, stable for the LUN's life.
    d.put((byte) 0x01).put((byte) 0x03).put((byte) 0).put((byte) 8);
    long naa = ByteBuffer.wrap(sha256(lun.id())).getLong();
    d.putLong((0x3L << 60) | (naa & 0x0fffffffffffffffL));
    // T10 vendor ID: vendor + LUN id, ASCII.
    byte[] id = lun.id().getBytes(StandardCharsets.US_ASCII);
    d.put((byte) 0x02).put((byte) 0x01).put((byte) 0).put((byte) (8 + id.length));
    d.put(VENDOR).put(id);
    // Relative target port 1 (association: target port).
    d.put((byte) 0x51).put((byte) 0x94).put((byte) 0).put((byte) 4).putInt(1);
    byte[] out = new byte[d.position()];
    d.flip().get(out);
    return out;
  }

  private static byte[] blockLimits() {
    ByteBuffer p = ByteBuffer.allocate(0x3c);
    p.put(0, (byte) 0x01); // WSNZ: WRITE SAME with 0 blocks is refused
    p.putShort(2, (short) 8); // optimal granularity: one 4 KiB pool block
    p.putInt(4, MAX_TRANSFER_BLOCKS);
    p.putInt(8, 2048);
    p.putInt(16, MAX_UNMAP_BLOCKS);
    p.putInt(20, MAX_UNMAP_DESCRIPTORS);
    p.putInt(24, 8);
    p.putInt(28, 0x80000000); // UGAVALID, alignment 0
    p.putLong(32, MAX_UNMAP_BLOCKS);
    return p.array();
  }

  private static byte[] page(int code, byte[] body) {
    byte[] b = new byte[4 + body.length];
    b[1] = (byte) code;
    b[2] = (byte) (body.length >>> 8);
    b[3] = (byte) body.length;
    System.arraycopy(body, 0, b, 4, body.length);
    return b;
  }

  /**
   * Mode pages for MODE SENSE: {@code page} 0x3f gives all; {@code changeable} gives the masks
   * (nothing is changeable). Returns null for a page this target does not have.
   */
  static byte[] modePages(int page, boolean changeable) {
    ByteBuffer out = ByteBuffer.allocate(128);
    boolean all = page == 0x3f;
    boolean any = false;
    if (all || page == 0x08) {
      byte[] caching = new byte[20];
      caching[0] = 0x08;
      caching[1] = 18;
      caching[2] = changeable ? 0 : (byte) 0x04; // WCE: writes are cached until SYNCHRONIZE CACHE
      out.put(caching);
      any = true;
    }
    if (all || page == 0x0a) {
      byte[] control = new byte[12];
      control[0] = 0x0a;
      control[1] = 10;
      if (!changeable) {
        control[3] = 0x10; // QAM 1: unrestricted reordering
        control[8] = (byte) 0xff; // busy timeout: unlimited
        control[9] = (byte) 0xff;
      }
      out.put(control);
      any = true;
    }
    if (all || page == 0x1c) {
      byte[] ie = new byte[12];
      ie[0] = 0x1c;
      ie[1] = 10;
      out.put(ie);
      any = true;
    }
    if (!any) {
      return null;
    }
    byte[] b = new byte[out.position()];
    out.flip().get(b);
    return b;
  }

  private static byte[] ascii(String s, int len) {
    byte[] b = new byte[len];
    java.util.Arrays.fill(b, (byte) ' ');
    byte[] v = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(v, 0, b, 0, Math.min(len, v.length));
    return b;
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
