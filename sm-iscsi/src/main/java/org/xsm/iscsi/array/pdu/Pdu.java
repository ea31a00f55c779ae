package org.xsm.iscsi.array.pdu;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One iSCSI PDU: the 48-byte basic header segment and the data segment (RFC 7143 section 11).
 * Additional header segments are read and dropped (nothing this target supports uses them); header
 * and data digests are not supported (negotiated to None).
 *
 * <p>Field accessors take byte offsets into the BHS, as the RFC's tables give them. Not
 * thread-safe.
 */
public final class Pdu {
  public static final int BHS_LENGTH = 48;

  /** The "no task tag" value of ITT and TTT. */
  public static final int RESERVED_TAG = 0xffffffff;

  private final byte[] bhs;
  private byte[] data;
  private int dataLength;

  private Pdu(byte[] bhs, byte[] data, int dataLength) {
    this.bhs = bhs;
    this.data = data;
    this.dataLength = dataLength;
  }

  /** A new PDU with the given opcode and no data. */
  public static Pdu create(int opcode) {
    byte[] h = new byte[BHS_LENGTH];
    h[0] = (byte) opcode;
    return new Pdu(h, new byte[0], 0);
  }

  /**
   * Reads one PDU; returns null on a clean end of stream before its first byte.
   *
   * @throws IOException on a stream that ends inside a PDU or a data segment over {@code maxData}
   */
  public static Pdu read(InputStream in, int maxData) throws IOException {
    Pdu p = readHeader(in, maxData);
    if (p != null) {
      p.readData(in);
    }
    return p;
  }

  /**
   * Reads the header (and drops any AHS); the data segment must then be read with {@link #readData}
   * or {@link #readDataInto}. Returns null on a clean end of stream.
   */
  public static Pdu readHeader(InputStream in, int maxData) throws IOException {
    byte[] h = new byte[BHS_LENGTH];
    int first = in.read(h, 0, BHS_LENGTH);
    if (first < 0) {
      return null;
    }
    readFully(in, h, first, BHS_LENGTH - first);
    int ahs = (h[4] & 0xff) * 4;
    int len = ((h[5] & 0xff) << 16) | ((h[6] & 0xff) << 8) | (h[7] & 0xff);
    if (len > maxData) {
      throw new IOException("data segment of " + len + " bytes exceeds the negotiated " + maxData);
    }
    if (ahs > 0) {
      readFully(in, new byte[ahs], 0, ahs);
    }
    return new Pdu(h, new byte[0], len);
  }

  /** Reads the data segment (and its padding) into a new array. */
  public void readData(InputStream in) throws IOException {
    data = new byte[dataLength];
    readDataInto(in, data, 0);
  }

  /** Reads the data segment straight into {@code dst} at {@code off}, then skips the padding. */
  public void readDataInto(InputStream in, byte[] dst, int off) throws IOException {
    readFully(in, dst, off, dataLength);
    int pad = (4 - (dataLength & 3)) & 3;
    if (pad > 0) {
      readFully(in, new byte[pad], 0, pad);
    }
  }

  /** Writes the PDU with its data padded to 4 bytes. Does not flush. */
  public void write(OutputStream out) throws IOException {
    bhs[4] = 0;
    bhs[5] = (byte) (dataLength >>> 16);
    bhs[6] = (byte) (dataLength >>> 8);
    bhs[7] = (byte) dataLength;
    out.write(bhs);
    out.write(data, 0, dataLength);
    int pad = (4 - (dataLength & 3)) & 3;
    for (int i = 0; i < pad; i++) {
      out.write(0);
    }
  }

  public int opcode() {
    return bhs[0] & 0x3f;
  }

  public boolean immediate() {
    return (bhs[0] & 0x40) != 0;
  }

  /** Byte 1: the F bit and opcode-specific flags. */
  public int flags() {
    return bhs[1] & 0xff;
  }

  public boolean finalBit() {
    return (bhs[1] & 0x80) != 0;
  }

  public Pdu flags(int f) {
    bhs[1] = (byte) f;
    return this;
  }

  public int byteAt(int offset) {
    return bhs[offset] & 0xff;
  }

  public Pdu byteAt(int offset, int value) {
    bhs[offset] = (byte) value;
    return this;
  }

  public int intAt(int offset) {
    return ((bhs[offset] & 0xff) << 24)
        | ((bhs[offset + 1] & 0xff) << 16)
        | ((bhs[offset + 2] & 0xff) << 8)
        | (bhs[offset + 3] & 0xff);
  }

  public Pdu intAt(int offset, int value) {
    bhs[offset] = (byte) (value >>> 24);
    bhs[offset + 1] = (byte) (value >>> 16);
    bhs[offset + 2] = (byte) (value >>> 8);
    bhs[offset + 3] = (byte) value;
    return this;
  }

  public long longAt(int offset) {
    return ((long) intAt(offset) << 32) | (intAt(offset + 4) & 0xffffffffL);
  }

  public Pdu longAt(int offset, long value) {
    intAt(offset, (int) (value >>> 32));
    return intAt(offset + 4, (int) value);
  }

  /** Initiator task tag (bytes 16-19). */
  public int itt() {
    return intAt(16);
  }

  /** The LUN field (bytes 8-15), raw. */
  public long lunField() {
    return longAt(8);
  }

  /** The header bytes (live, not a copy). */
  public byte[] header() {
    return bhs;
  }

  /** The data segment (live array; only the first {@link #dataLength} bytes are data). */
  public byte[] data() {
    return data;
  }

  public int dataLength() {
    return dataLength;
  }

  public Pdu data(byte[] d, int length) {
    this.data = d;
    this.dataLength = length;
    return this;
  }

  /**
   * Decodes a SAM LUN field (peripheral or flat addressing, first level only) into a LUN number.
   */
  public static int decodeLun(long field) {
    int b0 = (int) (field >>> 56) & 0xff;
    int b1 = (int) (field >>> 48) & 0xff;
    return ((b0 & 0x3f) << 8) | b1;
  }

  /** Encodes LUN number {@code lun}: peripheral addressing below 256, flat addressing above. */
  public static long encodeLun(int lun) {
    long b0 = lun < 256 ? 0 : 0x40 | (lun >>> 8);
    return (b0 << 56) | ((long) (lun & 0xff) << 48);
  }

  private static void readFully(InputStream in, byte[] b, int off, int len) throws IOException {
    while (len > 0) {
      int n = in.read(b, off, len);
      if (n < 0) {
        throw new EOFException("connection closed inside a PDU");
      }
      off += n;
      len -= n;
    }
  }
}
